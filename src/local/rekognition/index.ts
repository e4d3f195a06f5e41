export { startRekognitionEmulator } from './server.js';
export type { RekognitionEmulator, RekognitionEmulatorOptions } from './server.js';
export type { FaultRule } from './faults.js';
export type { HoldPoint } from './service.js';
export { constantPredictor, trainedModelPredictor } from './predictor.js';
export type { LoadedModel, Predictor } from './predictor.js';
export type { TrainingSettings } from './training.js';
export type { VersionStatus } from './store.js';
