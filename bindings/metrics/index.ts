// Evaluation metrics: clustering (ACC with Hungarian matching, NMI, ARI) and labelled
// classification (confusion matrix, macro-F1, balanced accuracy).
export { hungarianMin, hungarianMax } from './hungarian.js';
export { contingency, type Contingency, type Labels } from './contingency.js';
export { matchClusters, clusteringAccuracy, nmi, ari, clusteringScores, type ClusteringScores } from './clustering.js';
export { confusionMatrix, perClassF1, macroF1, balancedAccuracy, accuracy } from './classification.js';
