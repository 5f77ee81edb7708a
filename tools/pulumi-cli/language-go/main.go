// pulumi-language-go for this repository's Pulumi CLI: a small Go language host built from the
// Go module proxy, because upstream's host cannot be. Upstream's lives in the module
// github.com/pulumi/pulumi/sdk/go/pulumi-language-go/v3, which the Go module proxy here refuses
// (403 "not available", like the Node.js host's module; see ../language-nodejs/go.mod), and the
// last releases that shipped it inside sdk/v3 (v3.66.0 and older) predate the GeneratePackage
// call that `pulumi package gen-sdk` makes. So this host is ours, written against the same
// modules the CLI is built from (pkg/v3 and sdk/v3 v3.276.0), and does what upstream's does for
// the calls it answers:
//
//	GeneratePackage      binds the schema and writes what pkg/v3/codegen/go generates (the same
//	                     generator upstream's host calls), so gen-sdk's output is upstream's;
//	Run                  `go build` of the program directory into a temporary file, run with the
//	                     PULUMI_* variables the Go SDK reads (pulumi.Env*); exit status 32 (the
//	                     SDK's "error already reported") is a bail, any other failure an error;
//	GetRequiredPackages  the go.mod requirements that carry a pulumi-plugin.json with
//	                     "resource": true (in the module's root, go/, go/*/ or */);
//	InstallDependencies  `go mod tidy`;  GetPluginInfo, About, RuntimeOptionsPrompts, Handshake.
//
// Not implemented (Unimplemented): program conversion (GenerateProgram/Project), Pack, Link,
// RunPlugin, the runtime options `binary` and `buildTarget`, and attaching a debugger.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"google.golang.org/protobuf/types/known/emptypb"

	gogen "github.com/pulumi/pulumi/pkg/v3/codegen/go"
	"github.com/pulumi/pulumi/pkg/v3/codegen/schema"
	"github.com/pulumi/pulumi/sdk/v3/go/common/constant"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/plugin"
	"github.com/pulumi/pulumi/sdk/v3/go/common/util/cmdutil"
	"github.com/pulumi/pulumi/sdk/v3/go/common/util/rpcutil"
	"github.com/pulumi/pulumi/sdk/v3/go/common/version"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/grpc"
)

func main() {
	flag.String("tracing", "", "ignored: this host emits no traces")
	flag.Parse()
	engine := ""
	if flag.NArg() > 0 {
		engine = flag.Arg(0)
	}
	if err := serve(engine); err != nil {
		cmdutil.Exit(err)
	}
}

// serve answers the engine on a port of the kernel's choosing, printed on stdout as the engine
// expects, until the engine goes away or an interrupt comes.
func serve(engine string) error {
	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt)
	defer cancel()
	stop := make(chan bool)
	go func() {
		<-ctx.Done()
		close(stop)
	}()
	if engine != "" {
		if err := rpcutil.Healthcheck(ctx, engine, 5*time.Minute, cancel); err != nil {
			return fmt.Errorf("could not start the health check of the engine: %w", err)
		}
	}
	host := &goHost{engine: engine}
	handle, err := rpcutil.ServeWithOptions(rpcutil.ServeOptions{
		Cancel: stop,
		Init: func(srv *grpc.Server) error {
			pulumirpc.RegisterLanguageRuntimeServer(srv, host)
			return nil
		},
	})
	if err != nil {
		return fmt.Errorf("could not start the language host's RPC server: %w", err)
	}
	fmt.Printf("%d\n", handle.Port)
	return <-handle.Done
}

type goHost struct {
	pulumirpc.UnimplementedLanguageRuntimeServer
	engine string
}

func (h *goHost) Handshake(ctx context.Context, req *pulumirpc.LanguageHandshakeRequest) (*pulumirpc.LanguageHandshakeResponse, error) {
	if req.GetEngineAddress() == "" {
		return nil, errors.New("the handshake names no engine address")
	}
	h.engine = req.GetEngineAddress()
	return &pulumirpc.LanguageHandshakeResponse{}, nil
}

func (h *goHost) GetPluginInfo(context.Context, *emptypb.Empty) (*pulumirpc.PluginInfo, error) {
	return &pulumirpc.PluginInfo{Version: version.Version}, nil
}

func (h *goHost) RuntimeOptionsPrompts(context.Context, *pulumirpc.RuntimeOptionsRequest) (*pulumirpc.RuntimeOptionsResponse, error) {
	return &pulumirpc.RuntimeOptionsResponse{}, nil
}

func (h *goHost) About(context.Context, *pulumirpc.AboutRequest) (*pulumirpc.AboutResponse, error) {
	gobin, err := exec.LookPath("go")
	if err != nil {
		return nil, err
	}
	out, err := exec.Command(gobin, "version").Output()
	if err != nil {
		return nil, fmt.Errorf("go version: %w", err)
	}
	return &pulumirpc.AboutResponse{Executable: gobin, Version: strings.TrimSpace(string(out))}, nil
}

func (h *goHost) GeneratePackage(ctx context.Context, req *pulumirpc.GeneratePackageRequest) (*pulumirpc.GeneratePackageResponse, error) {
	if len(req.GetExtraFiles()) > 0 {
		return nil, errors.New("overlays are not supported for Go")
	}
	loader, err := schema.NewLoaderClient(req.GetLoaderTarget())
	if err != nil {
		return nil, err
	}
	defer loader.Close()
	var spec schema.PackageSpec
	if err := json.Unmarshal([]byte(req.GetSchema()), &spec); err != nil {
		return nil, fmt.Errorf("the schema: %w", err)
	}
	pkg, diags, err := schema.BindSpec(spec, schema.NewCachedLoader(loader), schema.ValidationOptions{})
	if err != nil {
		return nil, err
	}
	if diags.HasErrors() {
		return &pulumirpc.GeneratePackageResponse{Diagnostics: plugin.HclDiagnosticsToRPCDiagnostics(diags)}, nil
	}
	files, err := gogen.GeneratePackage("pulumi-language-go", pkg, req.GetLocalDependencies())
	if err != nil {
		return nil, err
	}
	for name, data := range files {
		target := filepath.Join(req.GetDirectory(), name)
		if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
			return nil, err
		}
		if err := os.WriteFile(target, data, 0o644); err != nil {
			return nil, err
		}
	}
	return &pulumirpc.GeneratePackageResponse{Diagnostics: plugin.HclDiagnosticsToRPCDiagnostics(diags)}, nil
}

// moduleOf is what `go list -m -json` says of a module.
type moduleOf struct {
	Path    string
	Version string
	Dir     string
	Main    bool
}

func (h *goHost) GetRequiredPackages(ctx context.Context, req *pulumirpc.GetRequiredPackagesRequest) (*pulumirpc.GetRequiredPackagesResponse, error) {
	// The main module and what it requires directly or not; modules not downloaded yet have no Dir
	// and are skipped (the build that follows downloads them, and the engine loads a provider
	// it was not told of in advance when a resource asks for it).
	cmd := exec.CommandContext(ctx, "go", "list", "-m", "-json", "all")
	cmd.Dir = req.GetInfo().GetProgramDirectory()
	cmd.Env = append(os.Environ(), "GOWORK=off")
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		// Not a module, go.mod unreadable or go.sum incomplete: the build will say why, or
		// complete go.sum under GOFLAGS=-mod=mod; nothing is required in advance.
		return &pulumirpc.GetRequiredPackagesResponse{}, nil
	}
	var packages []*pulumirpc.PackageDependency
	dec := json.NewDecoder(strings.NewReader(string(out)))
	for dec.More() {
		var m moduleOf
		if err := dec.Decode(&m); err != nil {
			return nil, fmt.Errorf("go list -m -json all: %w", err)
		}
		if m.Main || m.Dir == "" {
			continue
		}
		meta := pluginJSON(m.Dir)
		if meta == nil || !meta.Resource {
			continue
		}
		name, v := meta.Name, meta.Version
		if name == "" {
			name = filepath.Base(m.Path)
		}
		if v == "" {
			v = m.Version
		}
		packages = append(packages, &pulumirpc.PackageDependency{Name: name, Version: strings.TrimPrefix(v, "v"), Kind: "resource", Server: meta.Server})
	}
	return &pulumirpc.GetRequiredPackagesResponse{Packages: packages}, nil
}

// pluginJSON is the first pulumi-plugin.json found in dir, dir/go, dir/go/* or dir/*.
func pluginJSON(dir string) *plugin.PulumiPluginJSON {
	candidates := []string{filepath.Join(dir, "pulumi-plugin.json"), filepath.Join(dir, "go", "pulumi-plugin.json")}
	for _, pattern := range []string{filepath.Join(dir, "go", "*", "pulumi-plugin.json"), filepath.Join(dir, "*", "pulumi-plugin.json")} {
		found, _ := filepath.Glob(pattern)
		candidates = append(candidates, found...)
	}
	for _, c := range candidates {
		if meta, err := plugin.LoadPulumiPluginJSON(c); err == nil {
			return meta
		}
	}
	return nil
}

func (h *goHost) InstallDependencies(req *pulumirpc.InstallDependenciesRequest, server pulumirpc.LanguageRuntime_InstallDependenciesServer) error {
	closer, stdout, stderr, err := rpcutil.MakeInstallDependenciesStreams(server, req.GetIsTerminal())
	if err != nil {
		return err
	}
	defer closer.Close()
	cmd := exec.Command("go", "mod", "tidy")
	cmd.Dir = req.GetInfo().GetProgramDirectory()
	cmd.Stdout, cmd.Stderr = stdout, stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("go mod tidy: %w", err)
	}
	return closer.Close()
}

func (h *goHost) Run(ctx context.Context, req *pulumirpc.RunRequest) (*pulumirpc.RunResponse, error) {
	if h.engine == "" {
		return nil, errors.New("no engine address: start this host with one, or call Handshake first")
	}
	if req.GetAttachDebugger() {
		return nil, errors.New("this pulumi-language-go cannot attach a debugger")
	}
	options := req.GetInfo().GetOptions().AsMap()
	for _, o := range []string{"binary", "buildTarget"} {
		if _, set := options[o]; set {
			return nil, fmt.Errorf("this pulumi-language-go does not take the runtime option %q", o)
		}
	}
	env, err := h.environment(req)
	if err != nil {
		return nil, err
	}
	program, err := os.CreateTemp("", "pulumi-go.*")
	if err != nil {
		return nil, err
	}
	program.Close()
	defer os.Remove(program.Name())
	build := exec.CommandContext(ctx, "go", "build", "-o", program.Name())
	build.Dir = req.GetInfo().GetProgramDirectory()
	build.Stdout, build.Stderr = os.Stdout, os.Stderr
	if err := build.Run(); err != nil {
		return &pulumirpc.RunResponse{Error: fmt.Sprintf("go build in %s: %v", build.Dir, err)}, nil
	}
	run := exec.Command(program.Name())
	run.Dir = req.GetPwd()
	run.Env = env
	run.Stdout, run.Stderr = os.Stdout, os.Stderr
	err = run.Run()
	var exit *exec.ExitError
	switch {
	case err == nil:
		return &pulumirpc.RunResponse{}, nil
	case errors.As(err, &exit) && exit.ExitCode() == constant.ExitStatusLoggedError:
		return &pulumirpc.RunResponse{Bail: true}, nil
	case errors.As(err, &exit):
		return &pulumirpc.RunResponse{Error: fmt.Sprintf("program exited with non-zero exit code: %d", exit.ExitCode())}, nil
	default:
		return &pulumirpc.RunResponse{Error: err.Error()}, nil
	}
}

// environment is how the Go SDK's pulumi.Run learns of its stack, config and engine.
func (h *goHost) environment(req *pulumirpc.RunRequest) ([]string, error) {
	config, err := json.Marshal(req.GetConfig())
	if err != nil {
		return nil, err
	}
	secretKeys := req.GetConfigSecretKeys()
	if secretKeys == nil {
		secretKeys = []string{}
	}
	secrets, err := json.Marshal(secretKeys)
	if err != nil {
		return nil, err
	}
	env := os.Environ()
	set := func(key, value string) {
		if value != "" {
			env = append(env, key+"="+value)
		}
	}
	set(pulumi.EnvOrganization, req.GetOrganization())
	set(pulumi.EnvProject, req.GetProject())
	set(pulumi.EnvPulumiRootDirectory, req.GetInfo().GetRootDirectory())
	set(pulumi.EnvStack, req.GetStack())
	set(pulumi.EnvConfig, string(config))
	set(pulumi.EnvConfigSecretKeys, string(secrets))
	set(pulumi.EnvDryRun, strconv.FormatBool(req.GetDryRun()))
	set(pulumi.EnvParallel, strconv.Itoa(int(req.GetParallel())))
	set(pulumi.EnvMonitor, req.GetMonitorAddress())
	set(pulumi.EnvEngine, h.engine)
	return env, nil
}
