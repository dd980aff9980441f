/** The browser engine's public API: everything the widgets and `window.dropoutFigs` use. */
export { Generator, defaultRng, seedSequenceState } from "./random";
export { sampleKeepMask, MaskStream, MASK_MAX } from "./masks";
export { layerSummary, formatSubnetworks, dropRateOf, log10Subnetworks, pairwiseSum } from "./summary";
export type { LayerSummary } from "./summary";
export { keptCountPmf, keptCountLogPmf, keptCountCdf, keptCountLogCdf, keptCountWindow, lgamma } from "./binomial";
export { makeDataset, DATASETS, DEFAULT_NOISE } from "./data";
export type { Dataset, DatasetName, DatasetOptions } from "./data";
export { MLP, lossAndGrads, Optimizer, layout } from "./mlp";
export { LabPair, train, maskThreshold } from "./lab";
export type { TrainOptions, Curves } from "./lab";
