// The Go RocketMQ client (github.com/apache/rocketmq-client-go/v2 v2.1.2)
// against a NameServer, one action per run, for tests/interop/tests/go_client.rs.
//
//	interop-go produce      -namesrv ADDR -topic T -body B [-group G]
//	interop-go consume      -namesrv ADDR -topic T -body B [-group G] [-timeout D]
//	interop-go create-topic -namesrv ADDR -broker ADDR -topic T [-queues N] [-timeout D]
//	interop-go send-unknown -namesrv ADDR -topic T [-bound D]
//
// The subcommand comes first and its flags after it (each subcommand has its
// own flag set, so Go's stop at the first non-flag word does not matter).
// stdout carries only the answer, one JSON line; the client's logs go to
// stderr at level warn unless ROCKETMQ_GO_LOG_LEVEL says otherwise. Every run
// is bounded by -deadline (default 120s): past it the program exits 3.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/apache/rocketmq-client-go/v2/admin"
	"github.com/apache/rocketmq-client-go/v2/consumer"
	rmqerrors "github.com/apache/rocketmq-client-go/v2/errors"
	"github.com/apache/rocketmq-client-go/v2/primitive"
	"github.com/apache/rocketmq-client-go/v2/producer"
	"github.com/apache/rocketmq-client-go/v2/rlog"
)

func usage() {
	fmt.Fprintln(os.Stderr, "usage: interop-go produce|consume|create-topic|send-unknown -namesrv ADDR|-nsdomain URL [flags]")
	os.Exit(2)
}

func main() {
	if os.Getenv("ROCKETMQ_GO_LOG_LEVEL") == "" {
		rlog.SetLogLevel("warn")
	}
	if len(os.Args) < 2 {
		usage()
	}
	cmd := os.Args[1]
	fs := flag.NewFlagSet(cmd, flag.ExitOnError)
	namesrv := fs.String("namesrv", "", "NameServer address(es), ';'-separated")
	nsdomain := fs.String("nsdomain", "", "address server URL (the client's HTTP resolver) instead of -namesrv")
	topic := fs.String("topic", "", "topic")
	body := fs.String("body", "", "message body (produce, consume)")
	group := fs.String("group", "", "producer or consumer group (default: one per run)")
	broker := fs.String("broker", "", "broker address (create-topic)")
	queues := fs.Int("queues", 4, "read and write queue count (create-topic)")
	timeout := fs.Duration("timeout", 60*time.Second, "how long to wait (consume, create-topic)")
	bound := fs.Duration("bound", 10*time.Second, "send-unknown must fail within this")
	deadline := fs.Duration("deadline", 120*time.Second, "the whole run's bound")
	if err := fs.Parse(os.Args[2:]); err != nil || fs.NArg() != 0 {
		usage()
	}
	if (*namesrv == "" && *nsdomain == "") || *topic == "" {
		fmt.Fprintln(os.Stderr, "-namesrv (or -nsdomain) and -topic are required")
		os.Exit(2)
	}
	if *nsdomain != "" {
		httpResolver = primitive.NewHttpResolver("nsaddr", *nsdomain)
	}
	time.AfterFunc(*deadline, func() {
		fmt.Fprintf(os.Stderr, "%s: not done within %v\n", cmd, *deadline)
		os.Exit(3)
	})
	addrs := strings.Split(*namesrv, ";")
	if *group == "" {
		*group = fmt.Sprintf("GoInterop_%s_%d", strings.ReplaceAll(cmd, "-", "_"), os.Getpid())
	}
	instance := fmt.Sprintf("go-interop-%d", os.Getpid())

	var err error
	switch cmd {
	case "produce":
		err = produce(addrs, *group, instance, *topic, *body)
	case "consume":
		err = consume(addrs, *group, instance, *topic, *body, *timeout)
	case "create-topic":
		if *broker == "" {
			fmt.Fprintln(os.Stderr, "-broker is required")
			os.Exit(2)
		}
		err = createTopic(addrs, *broker, *topic, *queues, *timeout)
	case "send-unknown":
		err = sendUnknown(addrs, *group, instance, *topic, *bound)
	default:
		usage()
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", cmd, err)
		os.Exit(1)
	}
}

func printJSON(v interface{}) {
	line, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	fmt.Println(string(line))
}

// credentials, from $ROCKETMQ_ACCESS_KEY and $ROCKETMQ_SECRET_KEY (not
// argv), sign every request when set.
var credentials = primitive.Credentials{
	AccessKey: os.Getenv("ROCKETMQ_ACCESS_KEY"),
	SecretKey: os.Getenv("ROCKETMQ_SECRET_KEY"),
}

// httpResolver, when set by -nsdomain, finds the NameServers instead of -namesrv.
var httpResolver primitive.NsResolver

// resolver is how every client of this run finds its NameServers.
func resolver(addrs []string) primitive.NsResolver {
	if httpResolver != nil {
		return httpResolver
	}
	return primitive.NewPassthroughResolver(addrs)
}

func newProducer(addrs []string, group, instance string) (interface {
	Start() error
	Shutdown() error
	SendSync(context.Context, ...*primitive.Message) (*primitive.SendResult, error)
}, error) {
	opts := []producer.Option{
		producer.WithNsResolver(resolver(addrs)),
		producer.WithGroupName(group),
		producer.WithInstanceName(instance),
		producer.WithRetry(2),
	}
	if credentials.AccessKey != "" {
		opts = append(opts, producer.WithCredentials(credentials))
	}
	p, err := producer.NewDefaultProducer(opts...)
	if err != nil {
		return nil, err
	}
	if err := p.Start(); err != nil {
		return nil, err
	}
	return p, nil
}

func produce(addrs []string, group, instance, topic, body string) error {
	p, err := newProducer(addrs, group, instance)
	if err != nil {
		return err
	}
	defer p.Shutdown()
	res, err := p.SendSync(context.Background(), primitive.NewMessage(topic, []byte(body)))
	if err != nil {
		return err
	}
	if res.Status != primitive.SendOK {
		return fmt.Errorf("send status %d, not SEND_OK: %s", res.Status, res)
	}
	printJSON(map[string]interface{}{
		"status":      "SEND_OK",
		"msgId":       res.MsgID,
		"offsetMsgId": res.OffsetMsgID,
		"topic":       res.MessageQueue.Topic,
		"brokerName":  res.MessageQueue.BrokerName,
		"queueId":     res.MessageQueue.QueueId,
		"queueOffset": res.QueueOffset,
	})
	return nil
}

func consume(addrs []string, group, instance, topic, body string, timeout time.Duration) error {
	opts := []consumer.Option{
		consumer.WithNsResolver(resolver(addrs)),
		consumer.WithGroupName(group),
		consumer.WithInstance(instance),
		consumer.WithConsumeFromWhere(consumer.ConsumeFromFirstOffset),
	}
	if credentials.AccessKey != "" {
		opts = append(opts, consumer.WithCredentials(credentials))
	}
	c, err := consumer.NewPushConsumer(opts...)
	if err != nil {
		return err
	}
	found := make(chan *primitive.MessageExt, 1)
	err = c.Subscribe(topic, consumer.MessageSelector{}, func(ctx context.Context, msgs ...*primitive.MessageExt) (consumer.ConsumeResult, error) {
		for _, m := range msgs {
			if string(m.Body) == body {
				select {
				case found <- m:
				default:
				}
			}
		}
		return consumer.ConsumeSuccess, nil
	})
	if err != nil {
		return err
	}
	start := time.Now()
	if err := c.Start(); err != nil {
		return err
	}
	defer c.Shutdown()
	select {
	case m := <-found:
		out := map[string]interface{}{
			"topic":       m.Topic,
			"body":        string(m.Body),
			"msgId":       m.MsgId,
			"storeHost":   m.StoreHost,
			"queueOffset": m.QueueOffset,
			"millis":      time.Since(start).Milliseconds(),
		}
		if m.Queue != nil {
			out["brokerName"] = m.Queue.BrokerName
			out["queueId"] = m.Queue.QueueId
		}
		printJSON(out)
		return nil
	case <-time.After(timeout):
		return fmt.Errorf("no message with body %q on %s within %v", body, topic, timeout)
	}
}

// createTopic sends UPDATE_AND_CREATE_TOPIC to the broker with the admin API,
// then waits until the NameServer routes the topic: CreateTopic reports
// transport errors only, so the route read through the NameServer is the
// proof that the broker created and registered it.
func createTopic(addrs []string, broker, topic string, queues int, timeout time.Duration) error {
	adminOpts := []admin.AdminOption{admin.WithResolver(resolver(addrs))}
	if credentials.AccessKey != "" {
		adminOpts = append(adminOpts, admin.WithCredentials(credentials))
	}
	a, err := admin.NewAdmin(adminOpts...)
	if err != nil {
		return err
	}
	defer a.Close()
	err = a.CreateTopic(context.Background(),
		admin.WithTopicCreate(topic),
		admin.WithBrokerAddrCreate(broker),
		admin.WithReadQueueNums(queues),
		admin.WithWriteQueueNums(queues),
	)
	if err != nil {
		return err
	}
	start := time.Now()
	for {
		mqs, err := a.FetchPublishMessageQueues(context.Background(), topic)
		if err == nil && len(mqs) > 0 {
			brokers := map[string]bool{}
			for _, mq := range mqs {
				brokers[mq.BrokerName] = true
			}
			names := make([]string, 0, len(brokers))
			for b := range brokers {
				names = append(names, b)
			}
			printJSON(map[string]interface{}{
				"created":       topic,
				"broker":        broker,
				"publishQueues": len(mqs),
				"brokerNames":   names,
				"routedMillis":  time.Since(start).Milliseconds(),
			})
			return nil
		}
		if time.Since(start) > timeout {
			return fmt.Errorf("topic %s not routed by the NameServer within %v (last error: %v)", topic, timeout, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// routeAnswer says what the NameServer answered the Go client's route query
// for topic: TOPIC_NOT_EXIST, ROUTED, or the error (unreachable, undecodable).
func routeAnswer(a admin.Admin, topic string) string {
	mqs, err := a.FetchPublishMessageQueues(context.Background(), topic)
	switch {
	case errors.Is(err, rmqerrors.ErrTopicNotExist):
		return "TOPIC_NOT_EXIST"
	case err != nil:
		return err.Error()
	default:
		return fmt.Sprintf("ROUTED (%d queues)", len(mqs))
	}
}

// sendUnknown sends to a topic nobody created; it must fail, fail within
// bound, and the NameServer must have answered TOPIC_NOT_EXIST. Exit 0 only
// then. The answer also carries what the NameServer said
// to the route queries for that topic and for the default topic the producer
// falls back to (TBW102), asked again through the admin API, since the
// producer's error does not tell a missing route from an unreachable server.
func sendUnknown(addrs []string, group, instance, topic string, bound time.Duration) error {
	p, err := newProducer(addrs, group, instance)
	if err != nil {
		return err
	}
	defer p.Shutdown()
	start := time.Now()
	res, err := p.SendSync(context.Background(), primitive.NewMessage(topic, []byte("to nowhere")))
	elapsed := time.Since(start)
	out := map[string]interface{}{
		"topic":  topic,
		"failed": err != nil,
		"millis": elapsed.Milliseconds(),
	}
	if err != nil {
		out["error"] = err.Error()
	} else {
		out["result"] = res.String()
	}
	a, aerr := admin.NewAdmin(admin.WithResolver(resolver(addrs)))
	if aerr != nil {
		return aerr
	}
	defer a.Close()
	answer := routeAnswer(a, topic)
	out["namesrvAnswers"] = map[string]string{
		topic:    answer,
		"TBW102": routeAnswer(a, "TBW102"),
	}
	printJSON(out)
	if err == nil {
		return errors.New("the send to an unknown topic succeeded")
	}
	if answer != "TOPIC_NOT_EXIST" {
		return fmt.Errorf("the NameServer's route answer for %s was %q, not TOPIC_NOT_EXIST", topic, answer)
	}
	if elapsed > bound {
		return fmt.Errorf("the send failed only after %v (bound %v)", elapsed, bound)
	}
	return nil
}
