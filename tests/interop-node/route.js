'use strict';
// ali-ons (the Node.js RocketMQ client) against namesrv. ali-ons announces
// version 121, so namesrv answers in fastjson's form with unquoted numeric
// keys; this proves ali-ons reads it. Steps: start a producer whose name
// server is namesrv, fetch the route of TOPIC through ali-ons's own client,
// check it names EXPECT_BROKER_ADDR as brokerId 0 of EXPECT_BROKER_NAME, then
// let the producer send one message through the broker it found and print
// the outcome. Exits 1 if the route is missing or wrong.
const assert = require('assert');
const { Producer, Message } = require('ali-ons');

const nameSrv = process.env.NAMESRV_ADDR;
const topic = process.env.TOPIC || 'InteropTopic';
const expectAddr = process.env.EXPECT_BROKER_ADDR;
const expectName = process.env.EXPECT_BROKER_NAME;
assert(nameSrv, 'NAMESRV_ADDR is required');

// ali-ons insists on an HTTP client, used only to look up name servers by URL;
// with nameSrv given it is never called.
const httpclient = {
  request() {
    throw new Error('httpclient must not be used when nameSrv is set');
  },
};

async function main() {
  const producer = new Producer({
    httpclient,
    nameSrv,
    producerGroup: 'ali_ons_interop_group',
    instanceName: `interop-${process.pid}`,
  });
  await producer.ready();
  const route = await producer._mqClient.getTopicRouteInfoFromNameServer(topic, 3000);
  console.log(`ali-ons route for ${topic}: ${JSON.stringify(route)}`);
  assert(route && route.brokerDatas.length > 0, 'route has broker datas');
  const broker = route.brokerDatas.find(b => b.brokerName === expectName);
  assert(broker, `route names broker ${expectName}`);
  assert.strictEqual(broker.brokerAddrs['0'], expectAddr);
  assert(route.queueDatas.some(q => q.brokerName === expectName && q.writeQueueNums > 0));

  const msg = new Message(topic, 'TagNode', 'hello from ali-ons');
  try {
    const result = await producer.send(msg);
    console.log(`ali-ons send: ${JSON.stringify({ sendStatus: result.sendStatus, msgId: result.msgId })}`);
  } catch (err) {
    // The route came from namesrv; what the broker does with the send is the broker's business.
    console.log(`ali-ons send through ${expectAddr} failed at the broker: ${err.message}`);
  }
  try {
    await producer.close();
  } catch (err) {
    console.log(`ali-ons producer close: ${err.message}`);
  }
}

const timer = setTimeout(() => {
  console.error('timed out');
  process.exit(1);
}, 60000);
main().then(() => {
  clearTimeout(timer);
  process.exit(0);
}, err => {
  console.error(err);
  process.exit(1);
});
