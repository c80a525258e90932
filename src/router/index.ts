export { routeMean, routeMax, routeQuery, type PilotLibrary, type RouteMode, type RouteResult } from './route.js';
export { kmeans, centroid, type KMeansOptions, type KMeansResult } from './kmeans.js';
export {
  buildPilotLibrary,
  pilotsOf,
  queryGains,
  weightedMean,
  addExpert,
  removeExpert,
  type PilotDomain,
  type PilotBuildOptions,
  type PilotWeighting,
  type PilotLibraryState,
  type PilotChange,
  type AddExpertOptions,
} from './pilots.js';
export { exportPilotLibrary, parsePilotLibrary } from './pilot-json.js';
export { DatasetRouter, type DatasetRouterDomain, type DatasetRouterOptions } from './dataset-router.js';
export { mulberry32, sampleIndices } from './random.js';
