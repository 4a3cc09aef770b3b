// The go-control-plane peer of bench/serve-peers.ts: an ADS server on go-control-plane's
// SimpleCache (pkg/cache/v3), serving resources that smi-compile compiled (`compile -o`, turned
// into wire bytes by bench/peers/export-tree.ts). It compiles nothing: the bench prepares each
// state before a change, and times only what go-control-plane does with it.
//
//	gcp-ads STATE.bin
//
// Prints "ready <port>" on stdout once it listens on 127.0.0.1 (an ephemeral port), then answers
// one line per command read on stdin:
//
//	prepare FILE       decode a state (untimed by the bench): "prepared <nodes> <resources>"
//	commit             SetSnapshot for every node whose versions changed: "committed <nodes>"
//	stat               "stat <rss> <maxrss> <cpu µs> <heap in use> <goroutines>"
//	gc                 runtime.GC and debug.FreeOSMemory, then as stat
//	profile-start FILE a CPU profile (runtime/pprof) until profile-stop
//	profile-stop
//	quit
package main

import (
	"bufio"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"strings"
	"syscall"
	"time"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	discoverygrpc "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	"github.com/envoyproxy/go-control-plane/pkg/cache/types"
	cachev3 "github.com/envoyproxy/go-control-plane/pkg/cache/v3"
	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	serverv3 "github.com/envoyproxy/go-control-plane/pkg/server/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/keepalive"
	"google.golang.org/protobuf/proto"
)

// A node's snapshot and the digest of its per-type versions (what decides whether it changed).
type nodeState struct {
	snapshot *cachev3.Snapshot
	digest   string
}

type state map[string]nodeState

func newMessage(typeURL string) (proto.Message, error) {
	switch typeURL {
	case resourcev3.ClusterType:
		return &clusterv3.Cluster{}, nil
	case resourcev3.EndpointType:
		return &endpointv3.ClusterLoadAssignment{}, nil
	case resourcev3.ListenerType:
		return &listenerv3.Listener{}, nil
	case resourcev3.RouteType:
		return &routev3.RouteConfiguration{}, nil
	case resourcev3.SecretType:
		return &tlsv3.Secret{}, nil
	}
	return nil, fmt.Errorf("unknown type %s", typeURL)
}

type reader struct{ r *bufio.Reader }

func (r reader) u32() (uint32, error) {
	var b [4]byte
	if _, err := io.ReadFull(r.r, b[:]); err != nil {
		return 0, err
	}
	return binary.BigEndian.Uint32(b[:]), nil
}

func (r reader) bytes() ([]byte, error) {
	n, err := r.u32()
	if err != nil {
		return nil, err
	}
	b := make([]byte, n)
	_, err = io.ReadFull(r.r, b)
	return b, err
}

func (r reader) str() (string, error) {
	b, err := r.bytes()
	return string(b), err
}

// load reads a state file (see export-tree.ts): "SMIX1\n", the node count, then per node its
// id, the type count, and per type the type URL, the version, the resource count and each
// resource's wire bytes. Identical resources share one message, as a control plane that builds
// its snapshots from one model would share them.
func load(path string, shared map[string]types.Resource) (state, int, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, 0, err
	}
	defer f.Close()
	r := reader{bufio.NewReaderSize(f, 1<<20)}
	magic := make([]byte, 6)
	if _, err := io.ReadFull(r.r, magic); err != nil || string(magic) != "SMIX1\n" {
		return nil, 0, fmt.Errorf("%s: not a state file", path)
	}
	nodes, err := r.u32()
	if err != nil {
		return nil, 0, err
	}
	out := make(state, nodes)
	count := 0
	for i := uint32(0); i < nodes; i++ {
		id, err := r.str()
		if err != nil {
			return nil, 0, err
		}
		ntypes, err := r.u32()
		if err != nil {
			return nil, 0, err
		}
		snap := &cachev3.Snapshot{}
		var digest strings.Builder
		for t := uint32(0); t < ntypes; t++ {
			typeURL, err := r.str()
			if err != nil {
				return nil, 0, err
			}
			version, err := r.str()
			if err != nil {
				return nil, 0, err
			}
			n, err := r.u32()
			if err != nil {
				return nil, 0, err
			}
			items := make([]types.Resource, 0, n)
			for k := uint32(0); k < n; k++ {
				b, err := r.bytes()
				if err != nil {
					return nil, 0, err
				}
				key := typeURL + "\x00" + string(b)
				m, ok := shared[key]
				if !ok {
					if m, err = newMessage(typeURL); err != nil {
						return nil, 0, err
					}
					if err := proto.Unmarshal(b, m); err != nil {
						return nil, 0, fmt.Errorf("%s %s: %w", id, typeURL, err)
					}
					shared[key] = m
				}
				items = append(items, m)
				count++
			}
			snap.Resources[cachev3.GetResponseType(typeURL)] = cachev3.NewResources(version, items)
			digest.WriteString(typeURL + "=" + version + "\n")
		}
		out[id] = nodeState{snap, digest.String()}
	}
	return out, count, nil
}

func stat(w io.Writer, tag string) {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	cpu := ru.Utime.Sec*1e6 + int64(ru.Utime.Usec) + ru.Stime.Sec*1e6 + int64(ru.Stime.Usec)
	fmt.Fprintf(w, "%s %d %d %d %d %d\n", tag, rss(), ru.Maxrss*1024, cpu, ms.HeapInuse, runtime.NumGoroutine())
}

// rss is the resident set as the OS counts it now (VmRSS), in bytes.
func rss() int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "VmRSS:") {
			var kb int64
			fmt.Sscanf(strings.TrimSpace(strings.TrimPrefix(line, "VmRSS:")), "%d", &kb)
			return kb * 1024
		}
	}
	return 0
}

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: gcp-ads STATE.bin")
		os.Exit(2)
	}
	ctx := context.Background()
	cache := cachev3.NewSnapshotCache(true, cachev3.IDHash{}, nil)
	shared := map[string]types.Resource{}
	current, _, err := load(os.Args[1], shared)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	for id, n := range current {
		if err := cache.SetSnapshot(ctx, id, n.snapshot); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
	}
	// go-control-plane's example server (internal/example/server.go), as most control planes copy it.
	grpcServer := grpc.NewServer(
		grpc.MaxConcurrentStreams(1000000),
		grpc.KeepaliveParams(keepalive.ServerParameters{Time: 30 * time.Second, Timeout: 5 * time.Second}),
		grpc.KeepaliveEnforcementPolicy(keepalive.EnforcementPolicy{MinTime: 30 * time.Second, PermitWithoutStream: true}),
	)
	discoverygrpc.RegisterAggregatedDiscoveryServiceServer(grpcServer, serverv3.NewServer(ctx, cache, nil))
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	go func() { _ = grpcServer.Serve(lis) }()

	out := bufio.NewWriter(os.Stdout)
	reply := func(format string, args ...any) {
		fmt.Fprintf(out, format+"\n", args...)
		out.Flush()
	}
	reply("ready %d", lis.Addr().(*net.TCPAddr).Port)

	var next state
	var profile *os.File
	in := bufio.NewScanner(os.Stdin)
	in.Buffer(make([]byte, 1<<16), 1<<20)
	for in.Scan() {
		cmd, arg, _ := strings.Cut(in.Text(), " ")
		switch cmd {
		case "prepare":
			// A fresh share table per state: what the old state alone used goes with it.
			s, n, err := load(arg, map[string]types.Resource{})
			if err != nil {
				reply("error %s", err)
				continue
			}
			next = s
			reply("prepared %d %d", len(s), n)
		case "commit":
			changed := 0
			for id, n := range next {
				if old, ok := current[id]; ok && old.digest == n.digest {
					continue
				}
				if err := cache.SetSnapshot(ctx, id, n.snapshot); err != nil {
					reply("error %s", err)
					continue
				}
				changed++
			}
			for id := range current {
				if _, ok := next[id]; !ok {
					cache.ClearSnapshot(id)
					changed++
				}
			}
			current, next = next, nil
			reply("committed %d", changed)
		case "stat":
			stat(out, "stat")
			out.Flush()
		case "gc":
			runtime.GC()
			debug.FreeOSMemory()
			stat(out, "stat")
			out.Flush()
		case "profile-start":
			if profile, err = os.Create(arg); err == nil {
				err = pprof.StartCPUProfile(profile)
			}
			if err != nil {
				reply("error %s", err)
			} else {
				reply("profiling")
			}
		case "profile-stop":
			pprof.StopCPUProfile()
			if profile != nil {
				profile.Close()
			}
			reply("profiled")
		case "quit":
			grpcServer.Stop()
			reply("bye")
			return
		default:
			reply("error unknown command %q", cmd)
		}
	}
	grpcServer.Stop()
}
