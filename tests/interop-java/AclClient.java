// A Java remoting producer and consumer holding credentials, as an
// application with ACLs configures them: AclClientRPCHook signs every
// request, the NameServer's route lookups included. Sends `count`
// messages to `topic`, then pulls them back in `group`; prints
// "SENT <n>" and "RECEIVED <n>" and exits 0 when all came back, 1 if not
// within `seconds`. Usage: AclClient <namesrv> <ak> <sk> <topic> <group> <count> <seconds>
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import org.apache.rocketmq.acl.common.AclClientRPCHook;
import org.apache.rocketmq.acl.common.SessionCredentials;
import org.apache.rocketmq.client.consumer.DefaultLitePullConsumer;
import org.apache.rocketmq.client.producer.DefaultMQProducer;
import org.apache.rocketmq.client.producer.SendResult;
import org.apache.rocketmq.client.producer.SendStatus;
import org.apache.rocketmq.common.message.Message;
import org.apache.rocketmq.common.message.MessageExt;

public class AclClient {
    public static void main(String[] args) {
        try {
            run(args);
        } catch (Throwable e) {
            // The clients' threads would keep the JVM alive: exit here.
            System.out.println("FAILED " + e);
            System.exit(1);
        }
    }

    static void run(String[] args) throws Exception {
        String namesrv = args[0], ak = args[1], sk = args[2], topic = args[3], group = args[4];
        int count = Integer.parseInt(args[5]);
        long deadline = System.currentTimeMillis() + Long.parseLong(args[6]) * 1000;
        AclClientRPCHook hook = new AclClientRPCHook(new SessionCredentials(ak, sk));

        DefaultMQProducer producer = new DefaultMQProducer(group + "-producer", hook);
        producer.setNamesrvAddr(namesrv);
        producer.start();
        Set<String> sent = new HashSet<>();
        for (int i = 0; i < count; i++) {
            Message msg = new Message(topic, ("acl-" + i).getBytes("UTF-8"));
            SendResult result = producer.send(msg);
            if (result.getSendStatus() != SendStatus.SEND_OK) {
                System.out.println("SEND " + result.getSendStatus());
                System.exit(1);
            }
            sent.add("acl-" + i);
        }
        System.out.println("SENT " + sent.size());
        producer.shutdown();

        DefaultLitePullConsumer consumer = new DefaultLitePullConsumer(group, hook);
        consumer.setNamesrvAddr(namesrv);
        consumer.subscribe(topic, "*");
        consumer.setConsumeFromWhere(org.apache.rocketmq.common.consumer.ConsumeFromWhere.CONSUME_FROM_FIRST_OFFSET);
        consumer.start();
        Set<String> received = new HashSet<>();
        while (received.size() < sent.size() && System.currentTimeMillis() < deadline) {
            List<MessageExt> batch = consumer.poll(1000);
            for (MessageExt m : batch) {
                received.add(new String(m.getBody(), "UTF-8"));
            }
        }
        consumer.shutdown();
        System.out.println("RECEIVED " + received.size());
        System.exit(received.containsAll(sent) ? 0 : 1);
    }
}
