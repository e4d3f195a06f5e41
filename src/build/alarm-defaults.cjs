// @ts-check
/*
 * Stage-parameter defaults that follow from other parameters (serverless.yml, params.default). CommonJS because
 * the framework `require`s this file while it resolves variables, before any TypeScript is built.
 */
'use strict';

/**
 * Hours in a row a model may bill before the serving-too-long alarm fires: the daily cap plus an hour when the
 * stage sets one (the serving check stops the model at the cap; the hour covers the stop and the alarm's hourly
 * periods), else 13 (the daily stop ends a run started at the earliest by a 07:00 start within 12 hours).
 * @param {{ resolveVariable: (name: string) => Promise<unknown> }} framework
 * @returns {Promise<number>}
 */
async function maxServingHours({ resolveVariable }) {
  const cap = Number(await resolveVariable('param:dailyCapHours'));
  if (!Number.isFinite(cap) || cap < 0 || cap > 24) throw new Error(`dailyCapHours must be a number from 0 to 24, got ${String(cap)}`);
  return cap > 0 ? Math.ceil(cap) + 1 : 13;
}

module.exports = { maxServingHours };
