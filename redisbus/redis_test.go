package redisbus

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// The suite runs against a real redis-server: the one SHARPAPI_REDIS_ADDR
// names, or one TestMain starts on a free loopback port. With no
// redis-server installed (or with SHARPAPI_REDIS_FALLBACK=miniredis) it
// falls back to miniredis, run as a process of its own from the test-only
// module internal/miniredis so that this module requires no miniredis,
// says so in one line, and skips the fault tests that need a real server;
// under CI=true a missing redis-server fails instead, so that CI never
// takes that path unasked.
var (
	testAddr   string       // the shared server's address
	redisBin   string       // the redis-server binary; "" when none
	miniServer atomic.Bool  // the shared server is miniredis
	prefixSeq  atomic.Int64 // makes each test's key prefix unique
)

func TestMain(m *testing.M) { os.Exit(runMain(m)) }

func runMain(m *testing.M) int {
	redisBin, _ = exec.LookPath("redis-server")
	if addr := os.Getenv("SHARPAPI_REDIS_ADDR"); addr != "" {
		testAddr = addr
		return m.Run()
	}
	if fallback := os.Getenv("SHARPAPI_REDIS_FALLBACK") == "miniredis"; redisBin == "" || fallback {
		if os.Getenv("CI") == "true" && !fallback {
			fmt.Fprintln(os.Stderr, "redisbus: CI=true and no redis-server in PATH: install it (apt-get install -y redis-server) or set SHARPAPI_REDIS_ADDR")
			return 1
		}
		addr, stop, err := startMiniredis()
		if err != nil {
			fmt.Fprintln(os.Stderr, "redisbus: starting miniredis:", err)
			return 1
		}
		defer stop()
		fmt.Println("redisbus: no redis-server in PATH: running on miniredis, skipping the fault tests that need a real server")
		miniServer.Store(true)
		testAddr = addr
		return m.Run()
	}
	srv, err := startRedisServer()
	if err != nil {
		fmt.Fprintln(os.Stderr, "redisbus:", err)
		return 1
	}
	defer srv.stop()
	testAddr = srv.addr
	return m.Run()
}

// needRealRedis skips a test that the miniredis fallback cannot run.
func needRealRedis(t testing.TB) {
	t.Helper()
	if miniServer.Load() {
		t.Skip("needs a real redis-server")
	}
}

// ownRedis starts a redis-server of the test's own, for tests that stop
// and restart it.
func ownRedis(t testing.TB, args ...string) *redisServer {
	t.Helper()
	if redisBin == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("CI=true and no redis-server in PATH")
		}
		t.Skip("needs the redis-server binary")
	}
	srv, err := startRedisServer(args...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		srv.stop()
		os.RemoveAll(srv.dir)
	})
	return srv
}

// redisServer is a redis-server process on a loopback port, without
// persistence unless args (given after the defaults) turn it on: a restart
// then loses every key, as a crash of such a server does.
type redisServer struct {
	addr string
	port int
	dir  string
	args []string
	cmd  *exec.Cmd
	exit chan struct{} // closed when the process has exited and been reaped
}

func startRedisServer(args ...string) (*redisServer, error) {
	dir, err := os.MkdirTemp("", "redisbus-test-")
	if err != nil {
		return nil, err
	}
	var last error
	// The port is free when chosen but may be taken before redis binds it.
	for range 5 {
		port, err := freePort()
		if err != nil {
			return nil, err
		}
		s := &redisServer{addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), port: port, dir: dir, args: args}
		if last = s.start(); last == nil {
			return s, nil
		}
	}
	os.RemoveAll(dir)
	return nil, last
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// start runs redis-server on s's port and returns once it accepts
// connections, as its log says.
func (s *redisServer) start() error {
	cmd := exec.Command(redisBin, append([]string{"--port", strconv.Itoa(s.port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", "--dir", s.dir, "--daemonize", "no", "--loglevel", "notice"}, s.args...)...)
	out, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("starting redis-server: %w", err)
	}
	ready := make(chan struct{})
	s.cmd, s.exit = cmd, make(chan struct{})
	var tail []string
	go func() {
		sc := bufio.NewScanner(out)
		notify := ready
		for sc.Scan() {
			if notify != nil && strings.Contains(sc.Text(), "Ready to accept connections") {
				close(notify)
				notify = nil
			}
			if notify != nil && len(tail) < 20 {
				tail = append(tail, sc.Text())
			}
		}
		cmd.Wait()
		close(s.exit)
	}()
	select {
	case <-ready:
		return nil
	case <-s.exit:
		return fmt.Errorf("redis-server on port %d exited before it was ready:\n%s", s.port, strings.Join(tail, "\n"))
	case <-time.After(30 * time.Second):
		s.stop()
		return errors.New("redis-server was not ready within 30s")
	}
}

// stop kills the process, as a crash would, and waits until it is gone.
func (s *redisServer) stop() {
	select {
	case <-s.exit:
		return
	default:
	}
	s.cmd.Process.Kill()
	<-s.exit
}

// restart stops the server and starts it again on the same port, empty.
func (s *redisServer) restart(t testing.TB) {
	t.Helper()
	s.stop()
	if err := s.start(); err != nil {
		t.Fatal(err)
	}
}

// newClient returns a client of the server at addr, closed after the test.
func newClient(t testing.TB, addr string) *redis.Client {
	t.Helper()
	rdb := redis.NewClient(&redis.Options{Addr: addr})
	t.Cleanup(func() { rdb.Close() })
	return rdb
}

// testPrefix gives each test its own keys and channel on the shared server.
func testPrefix(t testing.TB) string {
	return fmt.Sprintf("test:%s:%d:", strings.NewReplacer("{", "(", "}", ")").Replace(t.Name()), prefixSeq.Add(1))
}

// newBus returns a Bus on rdb with the test's own prefix, closed after the
// test.
func newBus(t testing.TB, rdb redis.UniversalClient, opts ...Option) *Bus {
	t.Helper()
	b, err := New(rdb, append([]Option{WithKeyPrefix(testPrefix(t))}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return b
}

// waitFor waits for cond, which other goroutines make true; it fails the
// test after a generous bound instead of hanging.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// recv returns the next value from ch, failing the test after a generous
// bound instead of hanging.
func recv[T any](t testing.TB, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(20 * time.Second):
		t.Fatalf("gave up waiting for %s", what)
		panic("unreachable")
	}
}

// startMiniredis runs the test-only module internal/miniredis and returns
// the address it serves on; stop closes its standard input, which ends it.
func startMiniredis() (addr string, stop func(), err error) {
	cmd := exec.Command("go", "run", ".")
	cmd.Dir = "internal/miniredis"
	cmd.Stderr = os.Stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		return "", nil, err
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return "", nil, err
	}
	if err := cmd.Start(); err != nil {
		return "", nil, err
	}
	stop = func() {
		in.Close()
		cmd.Wait()
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		stop()
		return "", nil, fmt.Errorf("reading its address: %w", err)
	}
	return strings.TrimSpace(line), stop, nil
}
