export { startRaylet, type RayletOptions, type RunningRaylet } from "./raylet.js";
export { detectResources, detectCpus, defaultObjectStoreBytes } from "./resources_detect.js";
export { listLogs, globToRegExp, tailOffset, categoryOf } from "./log_service.js";
