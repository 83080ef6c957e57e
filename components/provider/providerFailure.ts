import * as grpc from "@grpc/grpc-js";
import { ErrorResourceInitFailed } from "@pulumi/pulumi/proto/provider_pb";
import { Status } from "@pulumi/pulumi/proto/status_pb";
import { Any } from "google-protobuf/google/protobuf/any_pb";
import { Struct, type JavaScriptValue } from "google-protobuf/google/protobuf/struct_pb";

/**
 * A handler's error as the SDK's dynamic-provider host answers it (grpcResponseFromError of
 * @pulumi/pulumi/cmd/dynamic-provider). An error that carries an `id` means the resource exists
 * but failed to initialize: its `properties` travel in the status details, and the engine
 * records them as the resource's state while it fails the step.
 */
export interface ProviderFailure extends grpc.ServiceError {
  readonly metadata: grpc.Metadata;
}

interface InitFailure {
  readonly id: string;
  readonly properties?: Record<string, JavaScriptValue>;
  readonly reasons?: string[];
}

function initFailureOf(error: unknown): InitFailure | undefined {
  const id = (error as { id?: unknown } | undefined)?.id;
  return typeof id === "string" && id !== "" ? (error as InitFailure) : undefined;
}

export function failureOf(error: unknown): ProviderFailure {
  const message = error instanceof Error ? error.message : String(error);
  const metadata = new grpc.Metadata();
  const init = initFailureOf(error);
  if (init !== undefined) {
    const detail = new ErrorResourceInitFailed()
      .setId(init.id)
      .setProperties(Struct.fromJavaScript(init.properties ?? {}))
      .setReasonsList(init.reasons ?? []);
    const details = new Any();
    details.pack(detail.serializeBinary(), "pulumirpc.ErrorResourceInitFailed");
    const status = new Status().setCode(grpc.status.UNKNOWN).setMessage(message);
    status.addDetails(details);
    // grpc-status-details-bin carries a google.rpc.Status with structured details.
    metadata.add("grpc-status-details-bin", Buffer.from(status.serializeBinary()));
  }
  return Object.assign(new Error(message), { code: grpc.status.UNKNOWN, details: message, metadata });
}
