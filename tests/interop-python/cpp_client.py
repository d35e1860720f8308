#!/usr/bin/env python3
"""The C++ RocketMQ client against namesrv.

The peer is rocketmq-client-cpp 2.0 (libRocketMQ), as shipped inside the
rocketmq-client-python 0.5.0rc2 wheel and driven through its ctypes binding.
It announces version 63 (a 3.x/4.x client), so namesrv answers its route
lookups in the fastjson form, with unquoted numeric brokerAddrs keys, which
the C++ client reads with its own JSON parser.

Two brokers are played by this script: each registers with namesrv over a
connection it keeps open and listens on the address it registered, answering
SEND_MESSAGE like a broker would. The C++ producer then finds the topic's
route through namesrv only, and must spread its sends over exactly the queues
that route names (4 write queues on broker-a, 2 on broker-b): every send
reaching a queue that exists proves the route was read right. Then a C++
push consumer must pull from exactly the read queues of the same route (3 on
broker-a, 2 on broker-b: read and write counts differ on purpose). Exits
non-zero on any mismatch.

Environment: NAMESRV_ADDR (host:port of the namesrv under test).
"""

import itertools
import json
import os
import socket
import struct
import sys
import threading

import time

from rocketmq.client import ConsumeStatus, Message, Producer, PushConsumer, SendStatus

NAMESRV = os.environ["NAMESRV_ADDR"]
TOPIC = "CppInteropTopic"
CLUSTER = "CppCluster"
# broker name -> write queues and read queues of TOPIC
QUEUES = {"cpp-broker-a": 4, "cpp-broker-b": 2}
READ_QUEUES = {"cpp-broker-a": 3, "cpp-broker-b": 2}
SENDS = 18

SEND_MESSAGE = 10
PULL_MESSAGE = 11
QUERY_CONSUMER_OFFSET = 14
HEART_BEAT = 34
GET_CONSUMER_LIST_BY_GROUP = 38
REGISTER_BROKER = 103
SEND_MESSAGE_V2 = 310
PULL_NOT_FOUND = 19
RPC_ONEWAY = 2
# A pull with nothing to return is answered after this, as a broker's long
# polling would, so the consumer does not spin.
PULL_HOLD_S = 0.2


def encode(header, body=b""):
    raw = json.dumps(header).encode()
    return struct.pack(">ii", 4 + len(raw) + len(body), len(raw)) + raw + body


def read_exact(sock, n):
    buf = b""
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            raise EOFError("connection closed")
        buf += chunk
    return buf


def read_frame(sock):
    (length,) = struct.unpack(">i", read_exact(sock, 4))
    frame = read_exact(sock, length)
    (header_len,) = struct.unpack(">i", frame[:4])
    header_len &= 0xFFFFFF
    return json.loads(frame[4 : 4 + header_len]), frame[4 + header_len :]


class PlayedBroker:
    """Listens on its own address and answers sends as a broker does."""

    def __init__(self, name):
        self.name = name
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.addr = "127.0.0.1:%d" % self.listener.getsockname()[1]
        self.sends = []  # (topic, queue id, queue offset)
        self.pulls = set()  # (topic, queue id)
        self.client_ids = set()  # from heartbeats, for GET_CONSUMER_LIST_BY_GROUP
        self.offsets = itertools.count(1000)
        self.lock = threading.Lock()
        threading.Thread(target=self.accept, daemon=True).start()

    def accept(self):
        while True:
            conn, _ = self.listener.accept()
            threading.Thread(target=self.serve, args=(conn,), daemon=True).start()

    def serve(self, conn):
        send_lock = threading.Lock()

        def reply(answer, body=b""):
            with send_lock:
                conn.sendall(encode(answer, body))

        try:
            while True:
                header, body = read_frame(conn)
                ext = header.get("extFields") or {}
                answer = {"code": 0, "flag": 1, "language": "JAVA", "opaque": header["opaque"], "version": 401}
                answer_body = b""
                code = header["code"]
                if code == HEART_BEAT:
                    client = json.loads(body).get("clientID")
                    with self.lock:
                        self.client_ids.add(client)
                elif code == GET_CONSUMER_LIST_BY_GROUP:
                    with self.lock:
                        answer_body = json.dumps({"consumerIdList": sorted(self.client_ids)}).encode()
                elif code == QUERY_CONSUMER_OFFSET:
                    answer["extFields"] = {"offset": "0"}
                elif code == PULL_MESSAGE:
                    with self.lock:
                        self.pulls.add((ext["topic"], int(ext["queueId"])))
                    answer["code"] = PULL_NOT_FOUND
                    answer["extFields"] = {
                        "nextBeginOffset": "0",
                        "minOffset": "0",
                        "maxOffset": "0",
                        "suggestWhichBrokerId": "0",
                    }
                    threading.Timer(PULL_HOLD_S, reply, args=(answer,)).start()
                    continue
                elif code in (SEND_MESSAGE, SEND_MESSAGE_V2):
                    # SEND_MESSAGE_V2 abbreviates its fields: b = topic, e = queueId.
                    topic = ext.get("topic", ext.get("b"))
                    queue = int(ext.get("queueId", ext.get("e")))
                    with self.lock:
                        offset = next(self.offsets)
                        self.sends.append((topic, queue, offset))
                    answer["extFields"] = {
                        "msgId": "%032X" % offset,
                        "queueId": str(queue),
                        "queueOffset": str(offset),
                    }
                if not header.get("flag", 0) & RPC_ONEWAY:
                    reply(answer, answer_body)
        except (EOFError, OSError):
            conn.close()

    def register(self, namesrv, write_queues, read_queues):
        """REGISTER_BROKER over a connection kept open: closing it would
        make namesrv drop the broker at once."""
        host, port = namesrv.split(":")
        sock = socket.create_connection((host, int(port)), timeout=10)
        def topic(name, write, read):
            return {
                "topicName": name,
                "readQueueNums": read,
                "writeQueueNums": write,
                "perm": 6,
                "topicFilterType": "SINGLE_TAG",
                "topicSysFlag": 0,
                "order": False,
            }

        # A broker's first registration carries its whole table; a table of
        # one topic is refused (Java: single-topic registrations are updates).
        table = {TOPIC: topic(TOPIC, write_queues, read_queues), self.name: topic(self.name, 1, 1)}
        body = {
            "topicConfigSerializeWrapper": {
                "dataVersion": {"counter": 1, "stateVersion": 0, "timestamp": 1},
                "topicConfigTable": table,
            },
            "filterServerList": [],
        }
        header = {
            "code": REGISTER_BROKER,
            "flag": 0,
            "language": "JAVA",
            "opaque": 1,
            "version": 401,
            "extFields": {
                "brokerName": self.name,
                "brokerAddr": self.addr,
                "clusterName": CLUSTER,
                "haServerAddr": self.addr,
                "brokerId": "0",
                "compressed": "false",
            },
        }
        sock.sendall(encode(header, json.dumps(body).encode()))
        answer, _ = read_frame(sock)
        if answer["code"] != 0:
            sys.exit("registration of %s refused: %s" % (self.name, answer.get("remark")))
        self.registration = sock


def main():
    brokers = {name: PlayedBroker(name) for name in QUEUES}
    for name, broker in brokers.items():
        broker.register(NAMESRV, QUEUES[name], READ_QUEUES[name])
        print("%s registered with namesrv %s as %s" % (name, NAMESRV, broker.addr))

    producer = Producer("cpp_interop_group", timeout=5000)
    producer.set_namesrv_addr(NAMESRV)
    producer.start()
    offsets = []
    try:
        for i in range(SENDS):
            msg = Message(TOPIC)
            msg.set_keys("key-%d" % i)
            msg.set_tags("TagCpp")
            msg.set_body("hello from the C++ client %d" % i)
            result = producer.send_sync(msg)
            assert result.status == SendStatus.OK, result
            offsets.append(result.offset)
    finally:
        producer.shutdown()

    served = sorted((name, q, off) for name, b in brokers.items() for (_t, q, off) in b.sends)
    print("C++ client sends by (broker, queue): %s" % sorted({(n, q) for n, q, _ in served}))
    for name, broker in brokers.items():
        for topic, queue, _ in broker.sends:
            assert topic == TOPIC, "sent to topic %r" % topic
            assert 0 <= queue < QUEUES[name], "%s got a send for queue %d, which the route does not name" % (name, queue)
    used = {(n, q) for n, q, _ in served}
    expected = {(n, q) for n, count in QUEUES.items() for q in range(count)}
    assert used == expected, "queues used %s, route names %s" % (sorted(used), sorted(expected))
    assert sorted(offsets) == sorted(off for _, _, off in served), "send results do not match what the brokers answered"
    print("C++ client: %d sends SEND_OK over the %d queues of the route from namesrv" % (SENDS, len(expected)))

    consume(brokers)


def consume(brokers):
    """A push consumer rebalances over the route's read queues and pulls each."""
    expected = {(n, q) for n, count in READ_QUEUES.items() for q in range(count)}

    def pulled():
        return {(name, q) for name, b in brokers.items() for (t, q) in b.pulls if t == TOPIC}

    consumer = PushConsumer("cpp_interop_consumer")
    consumer.set_namesrv_addr(NAMESRV)
    consumer.subscribe(TOPIC, lambda _msg: ConsumeStatus.CONSUME_SUCCESS)
    consumer.start()
    try:
        deadline = time.monotonic() + 30
        while pulled() != expected and time.monotonic() < deadline:
            time.sleep(0.1)
        # A moment more, so a pull from a queue the route does not name would show.
        time.sleep(2 * PULL_HOLD_S)
    finally:
        consumer.shutdown()
    got = pulled()
    print("C++ consumer pulls by (broker, queue): %s" % sorted(got))
    assert got == expected, "queues pulled %s, route names read queues %s" % (sorted(got), sorted(expected))
    print("C++ client: consumer pulled from the %d read queues of the route from namesrv" % len(expected))


if __name__ == "__main__":
    main()
