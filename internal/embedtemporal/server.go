// Package embedtemporal runs a single-process Temporal server backed by SQLite,
// for dev mode (a file that survives restarts) and tests (in memory).
package embedtemporal

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	_ "modernc.org/sqlite"

	"go.temporal.io/server/api/adminservice/v1"
	"go.temporal.io/server/common/authorization"
	"go.temporal.io/server/common/cluster"
	"go.temporal.io/server/common/config"
	"go.temporal.io/server/common/log"
	sqliteplugin "go.temporal.io/server/common/persistence/sql/sqlplugin/sqlite"
	"go.temporal.io/server/schema/sqlite"
	"go.temporal.io/server/temporal"
)

// Config says where the server keeps its state and listens.
type Config struct {
	// DatabaseFile persists state; empty means in memory (tests).
	DatabaseFile string
	// Host and FrontendPort for the gRPC frontend; port 0 picks a free one.
	Host         string
	FrontendPort int
	Namespace    string
	// Logger receives the server's logs; nil discards them (the server is chatty).
	Logger log.Logger
}

// Server is a running embedded Temporal server.
type Server struct {
	srv      temporal.Server
	hostPort string
}

// HostPort is the frontend address clients dial.
func (s *Server) HostPort() string { return s.hostPort }

// Stop shuts the server down.
func (s *Server) Stop() error { return s.srv.Stop() }

// Start creates the schema and namespace when needed and starts every service.
func Start(cfg Config) (*Server, error) {
	if cfg.Host == "" {
		cfg.Host = "127.0.0.1"
	}
	if cfg.Namespace == "" {
		cfg.Namespace = "default"
	}
	logger := cfg.Logger
	if logger == nil {
		logger = log.NewNoopLogger()
	}

	ports, err := reservePorts(cfg.Host, cfg.FrontendPort)
	if err != nil {
		return nil, err
	}

	sqlCfg := config.SQL{
		PluginName:        sqliteplugin.PluginName,
		ConnectAttributes: map[string]string{},
		DatabaseName:      cfg.DatabaseFile,
	}
	if cfg.DatabaseFile == "" {
		sqlCfg.ConnectAttributes["mode"] = "memory"
		sqlCfg.ConnectAttributes["cache"] = "shared"
		sqlCfg.DatabaseName = fmt.Sprintf("tocsin-%d", rand.IntN(1<<30))
	} else {
		sqlCfg.ConnectAttributes["mode"] = "rwc"
		// WAL with full sync: a workflow survives kill -9 of the process,
		// each commit costs one fsync, and readers do not wait for the
		// writer. The plugin turns every attribute that is not a URI
		// parameter into a pragma of that name, so these carry no leading
		// underscore (with one, SQLite ignored them as unknown pragmas
		// and the file stayed in rollback-journal mode).
		sqlCfg.ConnectAttributes["journal_mode"] = "wal"
		sqlCfg.ConnectAttributes["synchronous"] = "2"
		sqlCfg.ConnectAttributes["busy_timeout"] = "10000"
		if _, err := os.Stat(cfg.DatabaseFile); errors.Is(err, os.ErrNotExist) {
			if err := os.MkdirAll(filepath.Dir(cfg.DatabaseFile), 0o700); err != nil {
				return nil, fmt.Errorf("temporal data dir: %w", err)
			}
			if err := sqlite.SetupSchema(&sqlCfg); err != nil {
				return nil, fmt.Errorf("temporal schema: %w", err)
			}
		} else if err := forgetMembers(cfg.DatabaseFile); err != nil {
			return nil, err
		}
	}
	if cfg.DatabaseFile == "" {
		if err := sqlite.SetupSchema(&sqlCfg); err != nil {
			return nil, fmt.Errorf("temporal schema: %w", err)
		}
	}

	hostPort := net.JoinHostPort(cfg.Host, strconv.Itoa(ports[0]))
	conf := &config.Config{}
	conf.Global.Membership = config.Membership{MaxJoinDuration: 30 * time.Second, BroadcastAddress: cfg.Host}
	conf.Global.PProf = config.PProf{Port: 0}
	conf.Persistence = config.Persistence{
		DefaultStore:     sqliteplugin.PluginName,
		VisibilityStore:  sqliteplugin.PluginName,
		NumHistoryShards: 1,
		DataStores:       map[string]config.DataStore{sqliteplugin.PluginName: {SQL: &sqlCfg}},
	}
	conf.ClusterMetadata = &cluster.Config{
		EnableGlobalNamespace:    false,
		FailoverVersionIncrement: 10,
		MasterClusterName:        "active",
		CurrentClusterName:       "active",
		ClusterInformation: map[string]cluster.ClusterInformation{
			"active": {Enabled: true, InitialFailoverVersion: 1, RPCAddress: hostPort},
		},
	}
	conf.DCRedirectionPolicy = config.DCRedirectionPolicy{Policy: "noop"}
	service := func(grpc, membership int) config.Service {
		return config.Service{RPC: config.RPC{GRPCPort: grpc, MembershipPort: membership, BindOnIP: cfg.Host}}
	}
	conf.Services = map[string]config.Service{
		"frontend": service(ports[0], ports[1]),
		"history":  service(ports[2], ports[3]),
		"matching": service(ports[4], ports[5]),
		"worker":   service(ports[6], ports[7]),
	}
	conf.Archival = config.Archival{
		History:    config.HistoryArchival{State: "disabled"},
		Visibility: config.VisibilityArchival{State: "disabled"},
	}
	conf.PublicClient = config.PublicClient{HostPort: hostPort}
	conf.NamespaceDefaults = config.NamespaceDefaults{Archival: config.ArchivalNamespaceDefaults{
		History:    config.HistoryArchivalNamespaceDefaults{State: "disabled"},
		Visibility: config.VisibilityArchivalNamespaceDefaults{State: "disabled"},
	}}

	ns, err := sqlite.NewNamespaceConfig("active", cfg.Namespace, false, nil)
	if err != nil {
		return nil, fmt.Errorf("temporal namespace: %w", err)
	}
	if err := sqlite.CreateNamespaces(&sqlCfg, ns); err != nil {
		return nil, fmt.Errorf("temporal namespace: %w", err)
	}

	authorizer, err := authorization.GetAuthorizerFromConfig(&conf.Global.Authorization)
	if err != nil {
		return nil, fmt.Errorf("temporal authorizer: %w", err)
	}
	claimMapper, err := authorization.GetClaimMapperFromConfig(&conf.Global.Authorization, logger)
	if err != nil {
		return nil, fmt.Errorf("temporal claim mapper: %w", err)
	}
	srv, err := temporal.NewServer(
		temporal.WithConfig(conf),
		temporal.ForServices(temporal.DefaultServices),
		temporal.WithLogger(logger),
		temporal.WithAuthorizer(authorizer),
		temporal.WithClaimMapper(func(*config.Config) authorization.ClaimMapper { return claimMapper }),
	)
	if err != nil {
		return nil, fmt.Errorf("temporal server: %w", err)
	}
	if err := srv.Start(); err != nil {
		return nil, fmt.Errorf("temporal server start: %w", err)
	}
	if err := awaitMembership(hostPort, 60*time.Second); err != nil {
		srv.Stop()
		return nil, err
	}
	return &Server{srv: srv, hostPort: hostPort}, nil
}

// awaitMembership waits until every service has joined the cluster's
// membership rings. The services start their membership in the background;
// a Stop while one is still joining makes ringpop panic on the node it
// just destroyed (seen when a test stops a server it has just started).
func awaitMembership(hostPort string, timeout time.Duration) error {
	conn, err := grpc.NewClient(hostPort, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return fmt.Errorf("temporal membership: %w", err)
	}
	defer conn.Close()
	admin := adminservice.NewAdminServiceClient(conn)
	deadline := time.Now().Add(timeout)
	missing := "frontend, history, matching, worker"
	for time.Now().Before(deadline) {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		resp, err := admin.DescribeCluster(ctx, &adminservice.DescribeClusterRequest{})
		cancel()
		if err == nil {
			joined := map[string]bool{}
			for _, r := range resp.GetMembershipInfo().GetRings() {
				joined[r.GetRole()] = r.GetMemberCount() > 0
			}
			var lacking []string
			for _, role := range []string{"frontend", "history", "matching", "worker"} {
				if !joined[role] {
					lacking = append(lacking, role)
				}
			}
			if len(lacking) == 0 {
				return nil
			}
			missing = strings.Join(lacking, ", ")
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("temporal server: %s did not join the membership within %s", missing, timeout)
}

// reservePorts checks the frontend port is free (the server panics on a busy
// port instead of saying so) and picks free ports for the internal services.
// Picked ports come from below the kernel's ephemeral range: the server binds
// them only after they are released here, and a port from the ephemeral range
// can be taken in between by any outgoing connection (a busy test makes
// thousands), which makes ringpop panic on a nil listener.
func reservePorts(host string, frontend int) ([]int, error) {
	ports := make([]int, 8)
	var listeners []net.Listener
	defer func() {
		for _, l := range listeners {
			l.Close()
		}
	}()
	for i := range ports {
		if i == 0 && frontend != 0 {
			l, err := net.Listen("tcp", net.JoinHostPort(host, strconv.Itoa(frontend)))
			if err != nil {
				return nil, fmt.Errorf("temporal frontend port %d on %s is in use: stop the other process or pass another --temporal-port", frontend, host)
			}
			listeners = append(listeners, l)
			ports[i] = frontend
			continue
		}
		var l net.Listener
		var err error
		for try := 0; try < 200; try++ {
			port := privatePortLow + rand.IntN(privatePortHigh-privatePortLow)
			if l, err = net.Listen("tcp", net.JoinHostPort(host, strconv.Itoa(port))); err == nil {
				break
			}
		}
		if err != nil {
			return nil, fmt.Errorf("reserve port: %w", err)
		}
		listeners = append(listeners, l)
		ports[i] = l.Addr().(*net.TCPAddr).Port
	}
	return ports, nil
}

// Linux hands out ephemeral ports from 32768 up; these sit below.
const (
	privatePortLow  = 20000
	privatePortHigh = 32000
)

// forgetMembers removes the membership rows a previous server on this data
// file left behind. A server killed without stopping leaves its services'
// rows, heartbeated seconds ago; a new server's services take every member
// heartbeated within 20 s as a seed to join, and wait out ringpop's join
// timeout on the dead ones before they retry (a restarted matching service
// once took over a minute to join). The data file belongs to one server at
// a time, so every row in it is a dead one's.
func forgetMembers(path string) error {
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(10000)")
	if err != nil {
		return fmt.Errorf("temporal membership: %w", err)
	}
	defer db.Close()
	if _, err := db.Exec(`DELETE FROM cluster_membership`); err != nil {
		return fmt.Errorf("temporal membership: forget the previous server's members: %w", err)
	}
	return nil
}
