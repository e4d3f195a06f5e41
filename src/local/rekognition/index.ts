export { startRekognitionEmulator } from './server.js';
export type { FaultRule, HoldPoint, RekognitionEmulator, RekognitionEmulatorOptions } from './server.js';
export { constantPredictor, trainedModelPredictor } from './predictor.js';
export type { LoadedModel, Predictor } from './predictor.js';
export type { TrainingSettings } from './training.js';
export type { VersionStatus } from './store.js';
