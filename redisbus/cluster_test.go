package redisbus

import (
	"strconv"
	"strings"
	"testing"

	"github.com/sharpapi-go/sharpapi/sharpapitest"
)

// TestCluster runs the bus and its ledger on a real Redis Cluster of three
// masters, through go-redis's ClusterClient, as New's doc promises: every
// key of the bus shares one slot ({bus}), since one script stores a job's
// event and takes its hook lease (a cluster answers CROSSSLOT to a script
// whose keys are in two slots); the notification channel must reach the
// replicas whichever node they subscribed on.
func TestCluster(t *testing.T) {
	addrs := startCluster(t, 3)
	t.Run("webhooks across replicas, in time: no poll, the ledger empties", func(t *testing.T) {
		const n = 90
		f := newFleet(t, "", n)
		f.cluster = addrs
		ledgerWebhooksInTimeCostNoPoll(t, f, n)
	})
	t.Run("webhooks lost and the dispatcher gone: the ledger completes every job", func(t *testing.T) {
		const n = 100
		f := newFleet(t, "", n, sharpapitest.WithDropRate(1))
		f.cluster = addrs
		ledgerCompletesLostWebhooksOfADeadDispatcher(t, f, n)
		// Dedup records, events and the ledger's tombstones of 100 jobs
		// are left, all on the one node that owns the bus's slot.
		holding := 0
		for _, addr := range addrs {
			keys, err := newClient(t, addr).Keys(t.Context(), f.prefix+"*").Result()
			if err != nil {
				t.Fatal(err)
			}
			if len(keys) > 0 {
				holding++
			}
			for _, k := range keys {
				if !strings.HasPrefix(k, f.prefix+"{bus}:") {
					t.Errorf("key %q is not under the bus's hash tag", k)
				}
			}
		}
		if holding != 1 {
			t.Errorf("%d of %d nodes hold the bus's keys; want 1", holding, len(addrs))
		}
	})
}

// startCluster starts a Redis Cluster of masters on loopback, each with a
// contiguous share of the 16384 slots, and returns their addresses once
// every node reports the cluster ok.
func startCluster(t *testing.T, masters int) []string {
	t.Helper()
	type node struct {
		srv     *redisServer
		busPort int
	}
	nodes := make([]node, masters)
	for i := range nodes {
		// The cluster bus port is set, not left at port+10000, which may
		// lie past 65535 for a port the kernel chose.
		busPort, err := freePort()
		if err != nil {
			t.Fatal(err)
		}
		nodes[i] = node{ownRedis(t, "--cluster-enabled", "yes", "--cluster-port", strconv.Itoa(busPort),
			"--cluster-node-timeout", "5000"), busPort}
	}
	ctx := t.Context()
	const slots = 16384
	addrs := make([]string, masters)
	for i, n := range nodes {
		addrs[i] = n.srv.addr
		rdb := newClient(t, n.srv.addr)
		first, last := i*slots/masters, (i+1)*slots/masters-1
		if err := rdb.Do(ctx, "CLUSTER", "ADDSLOTSRANGE", first, last).Err(); err != nil {
			t.Fatalf("node %d: CLUSTER ADDSLOTSRANGE %d %d: %v", i, first, last, err)
		}
		if i > 0 {
			if err := rdb.Do(ctx, "CLUSTER", "MEET", "127.0.0.1", nodes[0].srv.port, nodes[0].busPort).Err(); err != nil {
				t.Fatalf("node %d: CLUSTER MEET: %v", i, err)
			}
		}
	}
	want := "cluster_known_nodes:" + strconv.Itoa(masters)
	for i, addr := range addrs {
		rdb := newClient(t, addr)
		waitFor(t, "node "+strconv.Itoa(i)+" to see the cluster ok", func() bool {
			info, err := rdb.ClusterInfo(ctx).Result()
			return err == nil && strings.Contains(info, "cluster_state:ok") && strings.Contains(info, want)
		})
	}
	return addrs
}
