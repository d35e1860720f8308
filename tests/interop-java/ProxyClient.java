// A RocketMQ 5 gRPC client (rocketmq-client-java, Maven Central) against a
// 5.x proxy: a producer sends one message, a simple consumer receives and
// acks it. Run in Java's single-file source mode on the client's classpath
// (scripts/java-peers.sh installs it):
//
//   java -Drocketmq.log.root=DIR -cp 'lib/*' ProxyClient.java \
//       ENDPOINT TOPIC GROUP BODY [SECONDS]
//
// Prints `sent <message id>` and `received <message id> <body>` on stdout
// (the client logs to DIR, not the console) and exits 0; any failure, or no
// message within SECONDS (default 60) in all, exits non-zero.

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Collections;
import java.util.List;

import org.apache.rocketmq.client.apis.ClientConfiguration;
import org.apache.rocketmq.client.apis.ClientServiceProvider;
import org.apache.rocketmq.client.apis.consumer.FilterExpression;
import org.apache.rocketmq.client.apis.consumer.SimpleConsumer;
import org.apache.rocketmq.client.apis.message.MessageView;
import org.apache.rocketmq.client.apis.producer.Producer;
import org.apache.rocketmq.client.apis.producer.SendReceipt;

public class ProxyClient {
    public static void main(String[] args) {
        if (args.length < 4) {
            System.err.println("usage: ProxyClient ENDPOINT TOPIC GROUP BODY [SECONDS]");
            System.exit(2);
        }
        String endpoint = args[0], topic = args[1], group = args[2], body = args[3];
        long seconds = args.length > 4 ? Long.parseLong(args[4]) : 60;
        long deadline = System.nanoTime() + Duration.ofSeconds(seconds).toNanos();
        // Whatever blocks (startup, a request the proxy never answers), the
        // program ends by the deadline.
        Thread watchdog = new Thread(() -> {
            try {
                Thread.sleep(Duration.ofSeconds(seconds + 5).toMillis());
            } catch (InterruptedException e) {
                return;
            }
            System.err.println("ProxyClient: no result within " + seconds + " s");
            Runtime.getRuntime().halt(3);
        });
        watchdog.setDaemon(true);
        watchdog.start();
        int status;
        try {
            status = run(endpoint, topic, group, body, deadline);
        } catch (Throwable e) {
            System.err.println("ProxyClient failed:");
            e.printStackTrace();
            status = 1;
        }
        System.out.flush();
        // The client's executors are not all daemons.
        System.exit(status);
    }

    static int run(String endpoint, String topic, String group, String body, long deadline)
        throws Exception {
        ClientServiceProvider provider = ClientServiceProvider.loadService();
        ClientConfiguration conf = ClientConfiguration.newBuilder()
            .setEndpoints(endpoint)
            .setRequestTimeout(Duration.ofSeconds(10))
            .build();
        // The consumer first, so its group subscribes before the message exists.
        try (SimpleConsumer consumer = provider.newSimpleConsumerBuilder()
                .setClientConfiguration(conf)
                .setConsumerGroup(group)
                .setAwaitDuration(Duration.ofSeconds(5))
                .setSubscriptionExpressions(
                    Collections.singletonMap(topic, FilterExpression.SUB_ALL))
                .build();
             Producer producer = provider.newProducerBuilder()
                .setClientConfiguration(conf)
                .setTopics(topic)
                .build()) {
            SendReceipt receipt = producer.send(provider.newMessageBuilder()
                .setTopic(topic)
                .setTag("proxy")
                .setKeys("proxy-client")
                .setBody(body.getBytes(StandardCharsets.UTF_8))
                .build());
            String sent = receipt.getMessageId().toString();
            System.out.println("sent " + sent);
            System.out.flush();
            while (System.nanoTime() < deadline) {
                List<MessageView> views = consumer.receive(16, Duration.ofSeconds(30));
                for (MessageView view : views) {
                    consumer.ack(view);
                    String got = StandardCharsets.UTF_8.decode(view.getBody()).toString();
                    String id = view.getMessageId().toString();
                    System.err.println("ProxyClient: received " + id + " (" + got.length() + " bytes)");
                    if (id.equals(sent)) {
                        System.out.println("received " + id + " " + got);
                        return 0;
                    }
                }
            }
            System.err.println("ProxyClient: message " + sent + " not received by the deadline");
            return 1;
        }
    }
}
