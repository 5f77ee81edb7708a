// The entry point of the provider plugin `pulumi-resource-smbsigning` (the launcher in bin/
// starts it with node): serves SmbSigningPlugin with @pulumi/pulumi/provider's `main`.
//
// One gap of that server is filled here. In @pulumi/pulumi 3.276.0 its Configure answers without
// handing the configuration to the provider, and CheckConfig and DiffConfig answer UNIMPLEMENTED:
// a Node.js provider cannot have configuration. This plugin's configuration (config.ts) is what
// lets a fleet's resources declare only their hosts, so these three methods are replaced on the
// service implementation the SDK registers, just before it is registered (grpc-js Server
// addService, patched for that one call). Nothing else of the SDK's server is touched; every
// other method is its own. test/unit/pluginSdkGap.test.ts fails when the pinned SDK starts
// answering these calls itself: then this file can go.
import * as fs from "node:fs";
import * as path from "node:path";
import { main } from "@pulumi/pulumi/provider";
import { fromPulumiSdk, setEngineAddress } from "../engineLog";
import { PACKAGE, parseProviderConfig } from "./config";
import { SmbSigningPlugin } from "./provider";

type Callback = (err: unknown, response?: unknown) => void;
interface Call {
  /** The generated protobuf request classes are untyped here. */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- the SDK's generated protobuf classes carry no types
  request: any;
}

/** The SDK's own copies of grpc-js, the protobuf Struct and the provider protocol, hoisted or not. */
function sdkModules() {
  return {
    grpc: fromPulumiSdk("@grpc/grpc-js"),
    provrpc: require("@pulumi/pulumi/proto/provider_grpc_pb"),
    provproto: require("@pulumi/pulumi/proto/provider_pb"),
    structproto: fromPulumiSdk("google-protobuf/google/protobuf/struct_pb"),
  };
}

/** Configuration as `key -> value`: the request's typed args, else its (deprecated) `<pkg>:config:<key>` text variables. */
function configOf(request: {
  getArgs(): { toJavaScript(): Record<string, unknown> } | undefined;
  getVariablesMap(): { entries(): Iterable<[string, string]> };
}): Record<string, unknown> {
  const args = request.getArgs();
  if (args) return args.toJavaScript();
  const out: Record<string, unknown> = {};
  for (const [key, value] of request.getVariablesMap().entries()) out[key.replace(`${PACKAGE}:config:`, "")] = value;
  return out;
}

/** Replaces Configure, CheckConfig and DiffConfig on the service implementation the SDK registers. */
export function serveConfiguration(plugin: SmbSigningPlugin): void {
  const { grpc, provrpc, provproto, structproto } = sdkModules();
  const addService = grpc.Server.prototype.addService;
  // In place only until the SDK's `main` registers its one service, which it does before it binds
  // a port: the first registration puts grpc-js back as it was, so no other server is touched.
  grpc.Server.prototype.addService = function (service: unknown, implementation: Record<string, unknown>) {
    grpc.Server.prototype.addService = addService;
    if (service === provrpc.ResourceProviderService) {
      implementation.configure = (call: Call, callback: Callback) => {
        const failures = plugin.configure(configOf(call.request));
        if (failures.length > 0) {
          callback({ code: grpc.status.INVALID_ARGUMENT, details: failures.map((f) => f.reason).join("; ") });
          return;
        }
        const response = new provproto.ConfigureResponse();
        // Secrets arrive wrapped and leave wrapped (provider.ts); resources and outputs are not used.
        response.setAcceptsecrets(true);
        response.setAcceptresources(false);
        response.setAcceptoutputs(false);
        callback(null, response);
      };
      implementation.checkConfig = (call: Call, callback: Callback) => {
        const news = call.request.getNews()?.toJavaScript() ?? {};
        const response = new provproto.CheckResponse();
        response.setInputs(structproto.Struct.fromJavaScript(news));
        const { failures } = parseProviderConfig(news);
        response.setFailuresList(
          failures.map((f) => {
            const failure = new provproto.CheckFailure();
            failure.setProperty(f.property);
            failure.setReason(f.reason);
            return failure;
          }),
        );
        callback(null, response);
      };
      implementation.diffConfig = (call: Call, callback: Callback) => {
        // Configuration only lends defaults: a change never replaces the provider (or its resources).
        const olds = JSON.stringify(call.request.getOlds()?.toJavaScript() ?? {});
        const news = JSON.stringify(call.request.getNews()?.toJavaScript() ?? {});
        const response = new provproto.DiffResponse();
        response.setChanges(olds === news ? provproto.DiffResponse.DiffChanges.DIFF_NONE : provproto.DiffResponse.DiffChanges.DIFF_SOME);
        callback(null, response);
      };
    }
    return addService.call(this, service, implementation);
  };
}

/** The package's version and its schema (provider/plugin/schema.json, generated by tools/schema/generate.ts). */
function loadPlugin(dir: string = __dirname): SmbSigningPlugin {
  const pkg = JSON.parse(fs.readFileSync(path.join(dir, "..", "..", "..", "package.json"), "utf8")) as { version: string };
  const schema = fs.readFileSync(path.join(dir, "..", "..", "..", "provider", "plugin", "schema.json"), "utf8");
  return new SmbSigningPlugin(pkg.version, schema);
}

/** Serves the plugin until the engine ends it; `args` as the CLI passes them (flags, then the engine's address). */
export function serve(args: string[]): Promise<void> {
  const plugin = loadPlugin();
  serveConfiguration(plugin);
  setEngineAddress(args.filter((a) => !a.startsWith("-")).pop());
  return main(plugin, args);
}

if (require.main === module) void serve(process.argv.slice(2));
