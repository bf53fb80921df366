package testbed

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/fleetbench/fleetbench/internal/pki"
)

// RabbitMQ is one RabbitMQ 3.x node with the rabbitmq_mqtt plugin (plain
// and TLS MQTT 3.1.1 listeners) and rabbitmq_amqp1_0 (AMQP 1.0 on the AMQP
// listeners), isolated from any other node on the machine: its own epmd,
// HOME, node name, data and log directories and ports, all on 127.0.0.1.
// Start one per test binary (it takes about 9 s); fields are read-only, and
// the methods are safe for concurrent use.
type RabbitMQ struct {
	AMQPAddr    string         // AMQP 0-9-1 and 1.0, plain: "127.0.0.1:PORT"
	AMQPSAddr   string         // AMQP 0-9-1 and 1.0 over TLS
	MQTTAddr    string         // MQTT 3.1.1, plain
	MQTTTLSAddr string         // MQTT 3.1.1 over TLS
	CAFile      string         // PEM of the CA that signed the server certificate
	CAPool      *x509.CertPool // the same CA, parsed
	User        string         // default user (administrator, vhost "/")
	Password    string         // its password, random per node
	Dir         string         // config, certificates, data (mnesia), logs and the node's HOME
	Node        string         // Erlang node name, NAME@localhost

	sbin          string
	env           []string
	server, epmd  *proc
	serverLogPath string
}

// rabbitmqSbin finds the sbin directory of the newest installed RabbitMQ.
// /usr/sbin/rabbitmq-server is not used: it switches user via su.
func rabbitmqSbin() (string, error) {
	dirs, _ := filepath.Glob("/usr/lib/rabbitmq/lib/rabbitmq_server-*/sbin")
	sort.Strings(dirs)
	for i := len(dirs) - 1; i >= 0; i-- {
		if _, err := os.Stat(filepath.Join(dirs[i], "rabbitmq-server")); err == nil {
			return dirs[i], nil
		}
	}
	return "", fmt.Errorf("%w: RabbitMQ not found in /usr/lib/rabbitmq/lib/rabbitmq_server-*/sbin (install it: apt-get install -y rabbitmq-server)", ErrNotInstalled)
}

func epmdBinary() (string, error) {
	if p, err := exec.LookPath("epmd"); err == nil {
		return p, nil
	}
	if m, _ := filepath.Glob("/usr/lib/erlang/erts-*/bin/epmd"); len(m) > 0 {
		return m[len(m)-1], nil
	}
	return "", fmt.Errorf("%w: epmd (Erlang) not found (install it: apt-get install -y rabbitmq-server)", ErrNotInstalled)
}

// StartRabbitMQ starts a node whose files all live in dir (created if
// missing; the caller removes it after Stop). It returns once the node has
// booted and its AMQP and MQTT listeners accept connections, or an error:
// one wrapping ErrNotInstalled when RabbitMQ or Erlang is missing (pass it
// to RequireBroker), otherwise one carrying the tail of the server log.
// On any error nothing is left running. ctx bounds the start (about 9 s on
// first boot; the readiness wait gives up after 120 s).
func StartRabbitMQ(ctx context.Context, dir string) (*RabbitMQ, error) {
	return StartRabbitMQWith(ctx, dir, RabbitMQOptions{})
}

// RabbitMQOptions fix what StartRabbitMQWith would otherwise choose. Zero
// ports are free ports; a zero CtlPortMin is a free range of 5.
type RabbitMQOptions struct {
	AMQPPort, AMQPSPort, MQTTPort, MQTTTLSPort int
	DistPort, EpmdPort, CtlPortMin             int
	User, Password                             string // "": "fleetbench" and random
}

// StartRabbitMQWith is StartRabbitMQ with fixed ports or credentials. The
// default user is created on first boot only: to change it, start on an
// empty dir.
func StartRabbitMQWith(ctx context.Context, dir string, opt RabbitMQOptions) (*RabbitMQ, error) {
	sbin, err := rabbitmqSbin()
	if err != nil {
		return nil, err
	}
	epmdBin, err := epmdBinary()
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("testbed: rabbitmq dir: %w", err)
	}
	if opt.User == "" {
		opt.User = "fleetbench"
	}
	if opt.Password == "" {
		opt.Password = randomHex(12)
	}
	r := &RabbitMQ{Dir: dir, sbin: sbin, User: opt.User, Password: opt.Password,
		Node: "fb" + randomHex(4) + "@localhost"}
	if err := r.prepare(opt); err != nil {
		return nil, err
	}
	if err := r.boot(ctx, epmdBin); err != nil {
		r.Stop()
		return nil, err
	}
	return r, nil
}

// prepare writes certificates, config, cookie and the environment.
func (r *RabbitMQ) prepare(opt RabbitMQOptions) error {
	ca, err := pki.NewCA("fleetbench testbed CA", 24*time.Hour)
	if err != nil {
		return err
	}
	leaf, err := ca.IssueServer(24*time.Hour, []string{"localhost"}, []net.IP{net.IPv4(127, 0, 0, 1)})
	if err != nil {
		return err
	}
	caFile, certFile, keyFile, err := pki.WriteFiles(r.Dir, ca, "server", leaf)
	if err != nil {
		return fmt.Errorf("testbed: write rabbitmq certificates: %w", err)
	}
	r.CAFile, r.CAPool = caFile, ca.Pool()

	// Ports: AMQP, AMQPS, MQTT, MQTTS, distribution, epmd; plus a range
	// for rabbitmqctl's own distribution node.
	ports, err := freePorts(6)
	if err != nil {
		return err
	}
	pick := func(fixed, free int) int {
		if fixed != 0 {
			return fixed
		}
		return free
	}
	amqp, amqps := pick(opt.AMQPPort, ports[0]), pick(opt.AMQPSPort, ports[1])
	mqttPort, mqtts := pick(opt.MQTTPort, ports[2]), pick(opt.MQTTTLSPort, ports[3])
	dist, epmdPort := pick(opt.DistPort, ports[4]), pick(opt.EpmdPort, ports[5])
	ctlBase := opt.CtlPortMin
	if ctlBase == 0 {
		if ctlBase, err = freeRange(5, ports...); err != nil {
			return err
		}
	}
	r.AMQPAddr, r.AMQPSAddr, r.MQTTAddr, r.MQTTTLSAddr = addr(amqp), addr(amqps), addr(mqttPort), addr(mqtts)

	home := filepath.Join(r.Dir, "home")
	for _, d := range []string{home, filepath.Join(r.Dir, "mnesia"), filepath.Join(r.Dir, "log")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return fmt.Errorf("testbed: rabbitmq dir: %w", err)
		}
	}
	// The Erlang cookie must exist before the server and rabbitmqctl start,
	// or each would create its own and they could not talk.
	cookie := strings.ToUpper(randomHex(10))
	if err := os.WriteFile(filepath.Join(home, ".erlang.cookie"), []byte(cookie), 0o400); err != nil {
		return fmt.Errorf("testbed: erlang cookie: %w", err)
	}
	conf := RabbitMQConfig(RabbitMQConfigParams{
		AMQPPort: amqp, AMQPSPort: amqps, MQTTPort: mqttPort, MQTTTLSPort: mqtts,
		CAFile: caFile, CertFile: certFile, KeyFile: keyFile, User: r.User, Password: r.Password,
	})
	files := map[string]string{
		"rabbitmq.conf":     conf,
		"enabled_plugins":   "[rabbitmq_mqtt,rabbitmq_amqp1_0].\n",
		"rabbitmq-env.conf": "",
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(r.Dir, name), []byte(content), 0o644); err != nil {
			return fmt.Errorf("testbed: write %s: %w", name, err)
		}
	}
	r.env = RabbitMQEnv(os.Environ(), RabbitMQEnvParams{
		Dir: r.Dir, Node: r.Node, NodePort: amqp, DistPort: dist, EpmdPort: epmdPort,
		CtlPortMin: ctlBase, CtlPortMax: ctlBase + 4,
	})
	return nil
}

// RabbitMQConfigParams are the inputs of RabbitMQConfig.
type RabbitMQConfigParams struct {
	AMQPPort, AMQPSPort, MQTTPort, MQTTTLSPort int
	CAFile, CertFile, KeyFile                  string
	User, Password                             string
}

// RabbitMQConfig returns a rabbitmq.conf (new-style) with every listener on
// 127.0.0.1, TLS without client certificates, MQTT without anonymous access,
// and a default administrator User/Password (created on first boot only).
func RabbitMQConfig(p RabbitMQConfigParams) string {
	lines := []string{
		fmt.Sprintf("listeners.tcp.default = 127.0.0.1:%d", p.AMQPPort),
		fmt.Sprintf("listeners.ssl.default = 127.0.0.1:%d", p.AMQPSPort),
		fmt.Sprintf("mqtt.listeners.tcp.default = 127.0.0.1:%d", p.MQTTPort),
		fmt.Sprintf("mqtt.listeners.ssl.default = 127.0.0.1:%d", p.MQTTTLSPort),
		"mqtt.allow_anonymous = false",
		"ssl_options.cacertfile = " + p.CAFile,
		"ssl_options.certfile = " + p.CertFile,
		"ssl_options.keyfile = " + p.KeyFile,
		"ssl_options.verify = verify_none",
		"ssl_options.fail_if_no_peer_cert = false",
		"default_user = " + p.User,
		"default_pass = " + p.Password,
		"loopback_users = none",
		// Small test machines: never block publishers on disk space.
		"disk_free_limit.absolute = 1MB",
		"log.console = false",
		"log.file.level = info",
	}
	return strings.Join(lines, "\n") + "\n"
}

// RabbitMQEnvParams are the inputs of RabbitMQEnv.
type RabbitMQEnvParams struct {
	Dir                    string // holds rabbitmq.conf, enabled_plugins, rabbitmq-env.conf, home/, mnesia/, log/
	Node                   string // NAME@localhost
	NodePort, DistPort     int
	EpmdPort               int
	CtlPortMin, CtlPortMax int
}

// RabbitMQEnv returns base (usually os.Environ()) without any RABBITMQ_*,
// ERL_* or HOME variable, plus the variables that isolate one node: its own
// HOME (Erlang cookie), config files, data and log directories, node name,
// ports and epmd, all bound to 127.0.0.1. Use it for the server and for
// rabbitmqctl alike; never for the calling process (HOME would move Go's
// caches).
func RabbitMQEnv(base []string, p RabbitMQEnvParams) []string {
	env := make([]string, 0, len(base)+24)
	for _, kv := range base {
		k, _, _ := strings.Cut(kv, "=")
		if k == "HOME" || strings.HasPrefix(k, "RABBITMQ_") || strings.HasPrefix(k, "ERL_") {
			continue
		}
		env = append(env, kv)
	}
	erlArgs := "-kernel inet_dist_use_interface {127,0,0,1}"
	return append(env,
		"HOME="+filepath.Join(p.Dir, "home"),
		"RABBITMQ_NODENAME="+p.Node,
		"RABBITMQ_CONF_ENV_FILE="+filepath.Join(p.Dir, "rabbitmq-env.conf"),
		"RABBITMQ_CONFIG_FILE="+filepath.Join(p.Dir, "rabbitmq.conf"),
		"RABBITMQ_ADVANCED_CONFIG_FILE="+filepath.Join(p.Dir, "advanced.config"),
		"RABBITMQ_ENABLED_PLUGINS_FILE="+filepath.Join(p.Dir, "enabled_plugins"),
		"RABBITMQ_MNESIA_BASE="+filepath.Join(p.Dir, "mnesia"),
		"RABBITMQ_LOG_BASE="+filepath.Join(p.Dir, "log"),
		"RABBITMQ_PID_FILE="+filepath.Join(p.Dir, "rabbitmq.pid"),
		"RABBITMQ_NODE_IP_ADDRESS=127.0.0.1",
		fmt.Sprintf("RABBITMQ_NODE_PORT=%d", p.NodePort),
		fmt.Sprintf("RABBITMQ_DIST_PORT=%d", p.DistPort),
		fmt.Sprintf("RABBITMQ_CTL_DIST_PORT_MIN=%d", p.CtlPortMin),
		fmt.Sprintf("RABBITMQ_CTL_DIST_PORT_MAX=%d", p.CtlPortMax),
		fmt.Sprintf("ERL_EPMD_PORT=%d", p.EpmdPort),
		"ERL_EPMD_ADDRESS=127.0.0.1",
		"RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="+erlArgs,
		"RABBITMQ_CTL_ERL_ARGS="+erlArgs,
	)
}

func (r *RabbitMQ) getenv(key string) string {
	for i := len(r.env) - 1; i >= 0; i-- {
		if k, v, ok := strings.Cut(r.env[i], "="); ok && k == key {
			return v
		}
	}
	return ""
}

// boot starts epmd and the server and waits until the node is up.
func (r *RabbitMQ) boot(ctx context.Context, epmdBin string) error {
	epmdAddr := addr(atoi(r.getenv("ERL_EPMD_PORT")))
	var err error
	r.epmd, err = startProc("epmd", filepath.Join(r.Dir, "log", "epmd.out"), r.env, epmdBin,
		"-address", "127.0.0.1", "-port", r.getenv("ERL_EPMD_PORT"))
	if err != nil {
		return err
	}
	if err := waitTCP(ctx, r.epmd, epmdAddr, time.Now().Add(10*time.Second)); err != nil {
		return err
	}
	r.serverLogPath = filepath.Join(r.Dir, "log", "server.out")
	r.server, err = startProc("rabbitmq-server", r.serverLogPath, r.env, filepath.Join(r.sbin, "rabbitmq-server"))
	if err != nil {
		return err
	}
	// rabbitmqctl wait returns once the node has booted (await_startup
	// fails at once until the node has registered with epmd). Cancel it
	// when the server dies, instead of waiting out the 120 s.
	wctx, cancel := context.WithTimeout(ctx, 130*time.Second)
	defer cancel()
	go func() {
		select {
		case <-r.server.done:
			cancel()
		case <-wctx.Done():
		}
	}()
	wait := exec.CommandContext(wctx, filepath.Join(r.sbin, "rabbitmqctl"), "-n", r.Node, "wait", "--timeout", "120", r.getenv("RABBITMQ_PID_FILE"))
	wait.Env = r.env
	wait.WaitDelay = 2 * time.Second
	out, err := wait.CombinedOutput()
	if err != nil {
		return fmt.Errorf("testbed: RabbitMQ node %s did not start (rabbitmqctl wait: %v: %s); server output:\n%s\nnode log:\n%s",
			r.Node, err, strings.TrimSpace(string(out)), r.server.logTail(2000), r.nodeLogTail(4000))
	}
	deadline := time.Now().Add(30 * time.Second)
	for _, a := range []string{r.AMQPAddr, r.AMQPSAddr, r.MQTTAddr, r.MQTTTLSAddr} {
		if err := waitTCP(ctx, r.server, a, deadline); err != nil {
			return fmt.Errorf("%w\nnode log:\n%s", err, r.nodeLogTail(4000))
		}
	}
	return nil
}

// nodeLogTail returns the end of the node's own log file.
func (r *RabbitMQ) nodeLogTail(n int) string {
	p := &proc{logPath: filepath.Join(r.Dir, "log", r.Node+".log")}
	return p.logTail(n)
}

// Stop stops the node (SIGTERM to the server wrapper, which stops the
// Erlang VM cleanly in 1-2 s; SIGKILL to its process group after 20 s) and
// then its epmd. It is idempotent and safe to call on a partly started node.
func (r *RabbitMQ) Stop() error {
	if r == nil {
		return nil
	}
	var errs []error
	if r.server != nil {
		errs = append(errs, r.server.stop(20*time.Second))
	}
	if r.epmd != nil {
		errs = append(errs, r.epmd.stop(5*time.Second))
	}
	return errors.Join(errs...)
}

func atoi(s string) int {
	n := 0
	for _, c := range s {
		n = n*10 + int(c-'0')
	}
	return n
}
