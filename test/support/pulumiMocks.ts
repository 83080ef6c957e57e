import * as pulumi from "@pulumi/pulumi";

/** One resource as the program registered it with the (mocked) engine. */
export interface Registration {
  readonly type: string;
  readonly name: string;
  readonly custom: boolean;
  readonly inputs: Record<string, unknown>;
  /** What the SDK sent beside the inputs; filled in when the request reaches the monitor. */
  parent: string;
  dependencies: string[];
  additionalSecretOutputs: string[];
  /** The resource's aliases as the SDK sent them (name, type and parent of each alias spec). */
  aliases: AliasSpec[];
  urn: string;
}

/** One alias of a registration, as the engine receives it. */
export interface AliasSpec {
  readonly name: string;
  readonly type: string;
  readonly parentUrn: string;
  readonly urn: string;
}

/** What happened when, for checking which registrations overlapped. */
export interface TimelineEntry {
  readonly event: "start" | "end";
  readonly name: string;
}

/** The parts of an alias in a RegisterResourceRequest these tests read. */
interface AliasMessage {
  getUrn(): string;
  getSpec(): { getName(): string; getType(): string; getParenturn(): string } | undefined;
}

/** The parts of a RegisterResourceRequest these tests read. */
interface RegisterRequest {
  getType(): string;
  getName(): string;
  getParent(): string;
  getDependenciesList(): string[];
  getAdditionalsecretoutputsList(): string[];
  getAliasesList(): AliasMessage[];
}

type Callback = (error: unknown, response: unknown) => void;

/** The one method of the mocked monitor wrapped here. */
interface RecordingMonitor {
  registerResource(request: RegisterRequest, callback: Callback): Promise<unknown>;
}

function aliasSpecOf(alias: AliasMessage): AliasSpec {
  const spec = alias.getSpec();
  return {
    name: spec?.getName() ?? "",
    type: spec?.getType() ?? "",
    parentUrn: spec?.getParenturn() ?? "",
    urn: alias.getUrn(),
  };
}

function hasUrn(response: unknown): response is { getUrn(): string } {
  return typeof response === "object" && response !== null && typeof Reflect.get(response, "getUrn") === "function";
}

export interface MockOptions {
  readonly project?: string;
  readonly stack?: string;
  /** The state a resource reports back; the inputs by default (a host already in its desired state). */
  readonly stateOf?: (registration: Registration) => Record<string, unknown>;
  /** How long registering a resource takes, to make overlapping registrations observable. */
  readonly delayMs?: (registration: Registration) => number;
  /** Run the program as a preview (`pulumi preview`) instead of an update. */
  readonly preview?: boolean;
}

/**
 * Installs Pulumi mocks (pulumi.runtime.setMocks) that record every registered resource.
 * MockResourceArgs carries neither the parent nor the dependencies, so the mocked monitor's
 * registerResource is wrapped to read them from the request the SDK sends, the same request the
 * engine would receive.
 */
export async function recordResources(options: MockOptions = {}): Promise<{
  readonly registrations: Registration[];
  readonly timeline: TimelineEntry[];
}> {
  const registrations: Registration[] = [];
  const timeline: TimelineEntry[] = [];
  const pending = new Map<
    string,
    Pick<Registration, "parent" | "dependencies" | "additionalSecretOutputs" | "aliases">
  >();

  await pulumi.runtime.setMocks(
    {
      newResource: async (args) => {
        const request = pending.get(`${args.type}::${args.name}`);
        const registration: Registration = {
          type: args.type,
          name: args.name,
          custom: args.custom ?? false,
          inputs: args.inputs as Record<string, unknown>,
          parent: request?.parent ?? "",
          dependencies: request?.dependencies ?? [],
          additionalSecretOutputs: request?.additionalSecretOutputs ?? [],
          aliases: request?.aliases ?? [],
          urn: "",
        };
        registrations.push(registration);
        timeline.push({ event: "start", name: args.name });
        const delay = options.delayMs?.(registration) ?? 0;
        if (delay > 0) await new Promise((resolve) => setTimeout(resolve, delay));
        timeline.push({ event: "end", name: args.name });
        return {
          id: registration.custom ? `${args.name}-id` : undefined,
          state: options.stateOf?.(registration) ?? registration.inputs,
        };
      },
      call: (args) => args.inputs as Record<string, unknown>,
    },
    options.project ?? "mps-hotfix",
    options.stack ?? "unit",
    options.preview ?? false,
  );

  // setMocks installs its monitor as the runtime's (pulumi.runtime.getMonitor); its registerResource
  // receives the request the engine would.
  const monitor = pulumi.runtime.getMonitor() as unknown as RecordingMonitor | undefined;
  if (typeof monitor?.registerResource !== "function") throw new Error("setMocks installed no monitor");
  const register = monitor.registerResource.bind(monitor);
  monitor.registerResource = async (
    request: RegisterRequest,
    callback: (error: unknown, response: unknown) => void,
  ) => {
    const key = `${request.getType()}::${request.getName()}`;
    pending.set(key, {
      parent: request.getParent(),
      dependencies: request.getDependenciesList(),
      additionalSecretOutputs: request.getAdditionalsecretoutputsList(),
      aliases: request.getAliasesList().map(aliasSpecOf),
    });
    return register(request, (error: unknown, response: unknown) => {
      const recorded = registrations.find((r) => `${r.type}::${r.name}` === key);
      if (recorded && hasUrn(response)) recorded.urn = response.getUrn();
      callback(error, response);
    });
  };

  return { registrations, timeline };
}

/** The value of an output once the mocked engine has answered every registration it depends on. */
export function valueOf<T>(output: pulumi.Output<T>): Promise<T> {
  return new Promise((resolve) => {
    output.apply((value) => {
      resolve(value);
      return value;
    });
  });
}

/** The secret envelope a secret input arrives in at the engine. */
export function secretEnvelope(value: unknown): Record<string, unknown> {
  return { [pulumi.runtime.specialSigKey]: pulumi.runtime.specialSecretSig, value };
}

/**
 * Waits for every outstanding call to the mocked engine (such as a component's registerOutputs,
 * which runs after its outputs resolve) and closes the monitor, so the next test's mocks start clean.
 */
export async function settle(): Promise<void> {
  await pulumi.runtime.disconnect();
}
