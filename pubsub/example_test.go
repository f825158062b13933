package pubsub_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log"

	"github.com/sfmtls/sfmtls/client"
	"github.com/sfmtls/sfmtls/events"
	"github.com/sfmtls/sfmtls/pubsub"
	"github.com/sfmtls/sfmtls/pubsub/pubsubtest"
	"github.com/sfmtls/sfmtls/salesforcetest"
)

// Listen to a topic through the Pub/Sub API under events.Subscription (the
// handler, store and lease of the Streaming listener), with the identity of
// an SDK client. Here against the fakes; for a real org, build sf with
// client.New(cfg) and leave Endpoint and RootCAs unset.
func Example() {
	org, err := salesforcetest.Start(salesforcetest.Config{})
	if err != nil {
		log.Fatal(err)
	}
	defer org.Close()
	fake, err := pubsubtest.Start(org)
	if err != nil {
		log.Fatal(err)
	}
	defer fake.Close()
	fake.AddTopic(orderTopic, orderSchema)

	sf, err := client.New(org.ClientConfig())
	if err != nil {
		log.Fatal(err)
	}
	defer sf.Close()
	ps, err := pubsub.New(pubsub.Config{Salesforce: sf, Endpoint: fake.Addr, RootCAs: fake.RootCAs()})
	if err != nil {
		log.Fatal(err)
	}
	defer ps.Close()

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if _, err := ps.Publish(ctx, orderTopic, pubsub.Message{Fields: json.RawMessage(`{"Amount__c": 42}`)}); err != nil {
		log.Fatal(err)
	}
	sub := &events.Subscription{Source: &pubsub.Subscriber{Client: ps, Topic: orderTopic}, Start: events.ReplayAll}
	err = sub.Run(ctx, func(_ context.Context, ev events.Event) error {
		var order struct {
			Amount float64 `json:"Amount__c"`
		}
		if err := json.Unmarshal(ev.Data, &order); err != nil {
			return err
		}
		fmt.Println(ev.Channel, order.Amount)
		cancel()
		return nil
	})
	if !errors.Is(err, context.Canceled) {
		log.Fatal(err)
	}
	// Output: /event/Order_Placed__e 42
}
