export { Fleet, type FleetArgs, type FleetCompliance } from "./fleet";
export { EngineServer, type EngineServerArgs, type EngineCompliance } from "./engineServer";
export { HotfixOnEngine, type HotfixOnEngineArgs } from "./hotfixOnEngine";
export { planFleet, FleetConfigError, type FleetPlan, type EnginePlan } from "./config/fleetPlan";
export { FleetConfig, Credentials } from "./config/fleetConfig";
export { catalog, parseCatalog, HotfixEntry } from "./catalog/catalog";
export { satisfies, parseFileVersion, compareFileVersions } from "./catalog/fileVersion";
export { fleetProgram, type FleetProgramOptions, type FleetProgramOutputs } from "./program";
