export {
  commandLineRejection,
  parseInput,
  type ParsedCommand,
  type ParsedScript,
  type ParseResult,
} from "./commandLine";
export {
  EngineHost,
  HostScriptError,
  msiExitCodes,
  type Clock,
  type EngineChange,
  type EngineSnapshot,
  type StagedPackageInfo,
} from "./engineHost";
export {
  ComPlusState,
  EngineActivity,
  EngineFaults,
  FleetFile,
  RelayFaults,
  SimulatedEngine,
  SimulatedRelay,
  StepDelays,
  defaultBinDir,
  defaultComPlusApplication,
  defaultEngineControlProgId,
  loadFleetFile,
  parseFleetFile,
  type FleetFileInput,
} from "./fleetFile";
export {
  runDirectScript,
  runRelayScript,
  startDirectInstall,
  startRelayInstall,
  uncapturedOutput,
  type HostResponse,
  type InstallRun,
  type ScriptRun,
} from "./scriptRunner";
export {
  startSimulatedFleet,
  type ActivityListener,
  type FleetActivity,
  type SimulatedFleet,
  type SimulatedFleetOptions,
  type SimulatedHost,
} from "./server";
export { readSimulatedPackage, simulatedPackageBytes } from "./simulatedPackage";
export type { StepDraft, StepKind, StepListener, StepRecord } from "./stepLog";
