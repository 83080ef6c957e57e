import * as grpc from "@grpc/grpc-js";
import { ErrorResourceInitFailed } from "@pulumi/pulumi/proto/provider_pb";
import { Status } from "@pulumi/pulumi/proto/status_pb";
import { failureOf } from "../../components/provider/providerFailure";

/** A handler's error as the engine receives it from the in-process provider (as from the SDK's host). */

describe("failureOf", () => {
  test("a plain error is the call's message, with no details", () => {
    const failure = failureOf(new Error("engine MPS01: refresh could not probe the host: exit 1"));
    expect(failure).toMatchObject({
      code: grpc.status.UNKNOWN,
      details: "engine MPS01: refresh could not probe the host: exit 1",
    });
    expect(failure.metadata.get("grpc-status-details-bin")).toEqual([]);
  });

  test("an error with an id carries the resource's properties as 'created, but failed to initialize'", () => {
    const properties = { engine: "MPS01", engineState: "deactivated", __provider: "exports.handler = …" };
    const error = Object.assign(new Error("install-package: exit 1603"), { id: "MPS01", properties });
    const [encoded] = failureOf(error).metadata.get("grpc-status-details-bin");
    const status = Status.deserializeBinary(new Uint8Array(encoded as Buffer));
    expect([status.getCode(), status.getMessage()]).toEqual([grpc.status.UNKNOWN, "install-package: exit 1603"]);
    const [detail] = status.getDetailsList();
    expect(detail?.getTypeName()).toBe("pulumirpc.ErrorResourceInitFailed");
    const initFailed = detail?.unpack(
      (bytes) => ErrorResourceInitFailed.deserializeBinary(bytes),
      "pulumirpc.ErrorResourceInitFailed",
    );
    expect(initFailed?.getId()).toBe("MPS01");
    expect(initFailed?.getProperties()?.toJavaScript()).toEqual(properties);
  });
});
