/*
 * Seeded arrival traces for the cost bench: when images reach the inbox at three kinds of site. Times are ms after
 * a Monday 00:00 (wall clock), ascending. Same seed, same trace.
 */

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
export const WEEK = 7 * DAY;
/** Monday 2027-01-04 00:00 UTC: time 0 of every trace. */
export const TRACE_ORIGIN = Date.UTC(2027, 0, 4);

export type TraceName = 'clinic' | 'sparse' | 'weekly-batch';
export const TRACE_NAMES: readonly TraceName[] = ['clinic', 'sparse', 'weekly-batch'];

/** mulberry32: small, fast, good enough to scatter arrivals. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

const exponential = (random: () => number, mean: number): number => -Math.log(1 - random()) * mean;

/**
 * A clinic: about 300 images a weekday between 08:00 and 18:00, none at weekends. Images come in sessions (a
 * patient's or a ward round's series: 1–15 images, seconds apart), sessions arrive more often mid-morning and
 * mid-afternoon, and rarely over the 12:00–13:30 lunch lull.
 */
export function clinicTrace(weeks: number, seed = 1): number[] {
  const random = seededRandom(seed);
  // Sessions per hour by hour of day; about 40 sessions of 7.5 images on average.
  const rate: Readonly<Record<number, number>> = { 8: 3, 9: 5, 10: 5.5, 11: 5, 12: 0.8, 13: 2, 14: 5, 15: 5.5, 16: 4.5, 17: 2.5 };
  const times: number[] = [];
  for (let day = 0; day < weeks * 7; day += 1) {
    if (day % 7 >= 5) continue;
    for (let hour = 8; hour < 18; hour += 1) {
      const perHour = rate[hour] ?? 0;
      let t = day * DAY + hour * HOUR + exponential(random, HOUR / perHour);
      while (t < day * DAY + (hour + 1) * HOUR) {
        // The lull runs to 13:30: the first half of 13:00 is as quiet as lunch.
        const quiet = hour === 13 && t < day * DAY + 13.5 * HOUR && random() < 0.6;
        if (!quiet) {
          const images = 1 + Math.floor(random() * 15);
          let at = t;
          for (let i = 0; i < images; i += 1) {
            times.push(Math.round(at));
            at += 5_000 + random() * 55_000;
          }
        }
        t += exponential(random, HOUR / perHour);
      }
    }
  }
  return times.sort((a, b) => a - b);
}

/** A sparse site: about 20 images a day, one at a time, at any hour of any day (nights and weekends too). */
export function sparseTrace(weeks: number, seed = 2): number[] {
  const random = seededRandom(seed);
  const times: number[] = [];
  const end = weeks * WEEK;
  for (let t = exponential(random, DAY / 20); t < end; t += exponential(random, DAY / 20)) times.push(Math.round(t));
  return times;
}

/** A research group's weekly batch: 5 000 images uploaded within two minutes, once a week at a random time. */
export function weeklyBatchTrace(weeks: number, seed = 3, images = 5000): number[] {
  const random = seededRandom(seed);
  const times: number[] = [];
  for (let week = 0; week < weeks; week += 1) {
    const start = week * WEEK + Math.floor(random() * (WEEK - 2 * MINUTE));
    for (let i = 0; i < images; i += 1) times.push(start + Math.round((i * 2 * MINUTE) / images));
  }
  return times;
}

export function trace(name: TraceName, weeks: number): number[] {
  switch (name) {
    case 'clinic':
      return clinicTrace(weeks);
    case 'sparse':
      return sparseTrace(weeks);
    case 'weekly-batch':
      return weeklyBatchTrace(weeks);
  }
}
