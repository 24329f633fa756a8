export {
  DEFAULT_PERMUTATION_OPTIONS,
  featureGroups,
  permutationImportance,
  type ActionChooser,
  type FeatureGroup,
  type FeatureImportance,
  type PermutationImportanceOptions,
} from "./permutation-importance.ts";
export { renderReport, type LearningCurve, type ReportData, type ReportFact } from "./render.ts";
