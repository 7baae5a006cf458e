package singlebench

import (
	"testing"

	"github.com/sharpapi-go/sharpapi"
)

// BenchmarkArrivalToWaiterSameReplicaNoBus is the path of a service run as
// one replica: no EventBus, the waiter on the handler that receives.
func BenchmarkArrivalToWaiterSameReplicaNoBus(b *testing.B) {
	const secret = "whsec-singlebench"
	h, err := sharpapi.NewWebhookHandler(secret)
	if err != nil {
		b.Fatal(err)
	}
	defer h.Close()
	ArrivalToWaiter(b, Client(b, StubAPI(b), h), h, secret)
}
