package dev.labelstream.examples.consumer;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericDatumReader;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.io.DecoderFactory;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;

/**
 * Reads Labelstream's public topics with nothing but Apache kafka-clients and Apache Avro:
 * what a marketing tool's JVM service does. Each record is printed on stdout as one JSON line
 * {@code {"topic","partition","offset","key","schemaId","value"}} ({@code value} null for a
 * tombstone), offsets are committed after each poll's lines are printed (at least once:
 * dedupe label events on {@code eventId}).
 *
 * <pre>
 * java -jar target/jvm-label-consumer.jar --bootstrap-servers 127.0.0.1:9092 \
 *     --registry-url http://127.0.0.1:8081/apis/ccompat/v7 --group-id my-crm-sync \
 *     --topics crm.label-events.v1=schemas/label-event.avsc,crm.customer-labels.v1=schemas/customer-labels.avsc \
 *     [--offset-reset earliest]      where a new group starts (earliest: bootstrap from the compacted topic)
 *     [--max-idle-ms N]              exit after N ms without a record (default: run until SIGTERM)
 * </pre>
 *
 * Each topic may name a reader schema (the .avsc the consumer was written against); the
 * writer schema is fetched from the registry by the id in each record's Confluent framing
 * (GET /schemas/ids/{id}, cached), and Avro's schema resolution maps writer to reader, so a
 * field Labelstream adds later (with a default, as BACKWARD compatibility demands) does not
 * break this consumer. Without a reader schema the writer schema is used as is.
 *
 * The group reads with {@code isolation.level=read_committed}: the publisher writes label
 * events and current labels in Kafka transactions, and only committed ones are label changes.
 *
 * A value that is not Confluent-framed Avro, or whose schema cannot be fetched or resolved,
 * stops the program with an exception naming the record, before its offset is committed:
 * an example should fail loudly rather than skip a label change. A production consumer
 * would set such a record aside (a dead-letter topic) and alert.
 */
public final class LabelEventConsumer {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();

  private final String registryUrl;
  private final Map<Integer, Schema> writers = new ConcurrentHashMap<>();
  private final Map<String, Schema> readers;

  LabelEventConsumer(String registryUrl, Map<String, Schema> readers) {
    this.registryUrl = registryUrl.replaceAll("/+$", "");
    this.readers = readers;
  }

  public static void main(String[] argv) throws Exception {
    Map<String, String> opt = parseArgs(argv);
    Map<String, Schema> readers = new LinkedHashMap<>();
    for (String spec : require(opt, "topics").split(",")) {
      String[] parts = spec.split("=", 2);
      readers.put(parts[0], parts.length == 2 ? new Schema.Parser().parse(Files.readString(Path.of(parts[1]))) : null);
    }
    LabelEventConsumer decoder = new LabelEventConsumer(require(opt, "registry-url"), readers);
    long maxIdleMs = Long.parseLong(opt.getOrDefault("max-idle-ms", "0"));

    Properties props = new Properties();
    props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, require(opt, "bootstrap-servers"));
    props.put(ConsumerConfig.GROUP_ID_CONFIG, require(opt, "group-id"));
    props.put(ConsumerConfig.CLIENT_ID_CONFIG, opt.getOrDefault("client-id", "label-consumer-example"));
    // Only label changes of committed publisher transactions.
    props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    props.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, opt.getOrDefault("offset-reset", "earliest"));
    props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
    props.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
    props.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());

    KafkaConsumer<String, byte[]> consumer = new KafkaConsumer<>(props);
    Thread main = Thread.currentThread();
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      try {
        consumer.wakeup(); // makes poll() throw WakeupException in the main thread
        main.join(10_000); // which closes the consumer: leaves the group, offsets committed
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      } catch (RuntimeException e) {
        // already closed: the main thread ended by itself (--max-idle-ms)
      }
    }));
    try (consumer) {
      consumer.subscribe(new ArrayList<>(readers.keySet()));
      long lastRecordAt = System.currentTimeMillis();
      while (maxIdleMs <= 0 || System.currentTimeMillis() - lastRecordAt < maxIdleMs) {
        ConsumerRecords<String, byte[]> records = consumer.poll(Duration.ofMillis(500));
        if (records.isEmpty()) continue;
        for (ConsumerRecord<String, byte[]> r : records) System.out.println(JSON.writeValueAsString(decoder.line(r)));
        System.out.flush();
        consumer.commitSync();
        lastRecordAt = System.currentTimeMillis();
      }
    } catch (WakeupException e) {
      // shutting down
    }
  }

  /** One record as a JSON line: where it is, its key, the writer schema id and the decoded value. */
  ObjectNode line(ConsumerRecord<String, byte[]> r) throws IOException {
    ObjectNode out = JSON.createObjectNode().put("topic", r.topic()).put("partition", r.partition()).put("offset", r.offset()).put("key", r.key());
    if (r.value() == null) return out.putNull("schemaId").putNull("value");
    ByteBuffer buf = ByteBuffer.wrap(r.value());
    if (buf.remaining() < 5 || buf.get() != 0) throw new IOException(r.topic() + "/" + r.partition() + "@" + r.offset() + ": not Confluent-framed Avro");
    int id = buf.getInt();
    Schema writer = writers.computeIfAbsent(id, this::fetchSchema);
    Schema reader = readers.get(r.topic());
    GenericDatumReader<GenericRecord> datumReader = new GenericDatumReader<>(writer, reader == null ? writer : reader);
    GenericRecord value = datumReader.read(null, DecoderFactory.get().binaryDecoder(r.value(), 5, r.value().length - 5, null));
    // GenericData's toString is JSON (enums as their symbol, timestamps as epoch millis).
    out.put("schemaId", id).set("value", JSON.readTree(GenericData.get().toString(value)));
    return out;
  }

  /** The writer schema with this id, from the registry's Confluent-compatible API. */
  private Schema fetchSchema(int id) {
    try {
      HttpRequest req = HttpRequest.newBuilder(URI.create(registryUrl + "/schemas/ids/" + id)).timeout(Duration.ofSeconds(30)).GET().build();
      HttpResponse<String> res = HTTP.send(req, HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
      if (res.statusCode() != 200) throw new IOException("schema id " + id + ": HTTP " + res.statusCode() + " " + res.body());
      return new Schema.Parser().parse(JSON.readTree(res.body()).get("schema").asText());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  static Map<String, String> parseArgs(String[] argv) {
    Map<String, String> opt = new HashMap<>();
    for (int i = 0; i < argv.length; i++) {
      if (!argv[i].startsWith("--") || i + 1 >= argv.length) throw new IllegalArgumentException("expected --name value pairs, got " + argv[i]);
      opt.put(argv[i].substring(2), argv[++i]);
    }
    return opt;
  }

  private static String require(Map<String, String> opt, String name) {
    String v = opt.get(name);
    if (v == null) throw new IllegalArgumentException("--" + name + " is required");
    return v;
  }
}
