// The dynamic-provider host the engine starts (see scripts/toolchain.sh): the SDK's own, which
// serves as soon as it is loaded, without its closure serializer.
import "./deferredClosures";
import "@pulumi/pulumi/cmd/dynamic-provider";
