package dev.labelstream.examples.producer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.BufferedReader;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.Future;
import org.apache.avro.LogicalTypes;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericDatumWriter;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.EncoderFactory;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * Sends storefront events to a Labelstream raw topic with nothing but Apache kafka-clients
 * and Apache Avro: what a platform team's JVM service does. One event per stdin line, as
 * JSON in the shape of docs/raw-input-contract.md; each record sent is reported on stdout as
 * a JSON line {@code {"topic","partition","offset","key","schemaId"}}.
 *
 * <pre>
 * java -jar target/jvm-producer.jar --bootstrap-servers 127.0.0.1:9092 --topic storefront.purchases.v1 \
 *     [--format json|avro]            json (default): each line is sent as it is
 *                                     avro: Confluent framing, magic 0 + schema id + Avro binary
 *     [--registry-url URL]            Confluent-compatible registry (Apicurio: .../apis/ccompat/v7); avro only
 *     [--schema FILE.avsc]            writer schema for avro (default: the bundled storefront-purchase.avsc)
 *     [--compression lz4]             none, gzip, snappy, lz4 or zstd: Labelstream reads every one
 *     [--transactional-id ID]         send all lines in one Kafka transaction
 *     [--key-field customerId]        the JSON field whose value becomes the record key
 * </pre>
 *
 * Avro values use TopicNameStrategy: the schema is registered under {@code <topic>-value}
 * (POST /subjects/{subject}/versions), which returns its id, or the existing id when the
 * registry already has it; an incompatible schema is refused by the registry with HTTP 409,
 * reported here on stderr with exit code 3.
 */
public final class RawEventProducer {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();

  private RawEventProducer() {}

  public static void main(String[] argv) throws Exception {
    Map<String, String> opt = parseArgs(argv);
    String bootstrap = require(opt, "bootstrap-servers");
    String topic = require(opt, "topic");
    String format = opt.getOrDefault("format", "json");
    String keyField = opt.getOrDefault("key-field", "customerId");

    Schema schema = null;
    int schemaId = -1;
    if (format.equals("avro")) {
      String registry = require(opt, "registry-url");
      schema = new Schema.Parser().parse(opt.containsKey("schema") ? Files.readString(Path.of(opt.get("schema"))) : bundled("storefront-purchase.avsc"));
      try {
        schemaId = register(registry, topic + "-value", schema);
      } catch (RegistryException e) {
        System.err.println(e.getMessage());
        System.exit(e.status == 409 ? 3 : 2);
      }
    } else if (!format.equals("json")) {
      throw new IllegalArgumentException("--format must be json or avro");
    }

    Properties props = new Properties();
    props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    props.put(ProducerConfig.CLIENT_ID_CONFIG, opt.getOrDefault("client-id", "storefront-example"));
    // Idempotence (acks=all, retries without duplicates or reordering per partition):
    // Labelstream dedupes on eventId too, but there is no reason to make it work.
    props.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
    props.put(ProducerConfig.ACKS_CONFIG, "all");
    props.put(ProducerConfig.COMPRESSION_TYPE_CONFIG, opt.getOrDefault("compression", "lz4"));
    props.put(ProducerConfig.LINGER_MS_CONFIG, "5");
    props.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
    props.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
    String txId = opt.get("transactional-id");
    if (txId != null) props.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, txId);

    List<String> lines = readLines(System.in);
    List<Future<RecordMetadata>> sent = new ArrayList<>();
    List<String> keys = new ArrayList<>();
    try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(props)) {
      if (txId != null) {
        producer.initTransactions();
        producer.beginTransaction();
      }
      for (String line : lines) {
        JsonNode event = JSON.readTree(line);
        String key = event.hasNonNull(keyField) ? event.get(keyField).asText() : null;
        byte[] value = schema == null ? line.getBytes(StandardCharsets.UTF_8) : confluentAvro(schemaId, (GenericRecord) fromJson(event, schema));
        sent.add(producer.send(new ProducerRecord<>(topic, key, value)));
        keys.add(key);
      }
      if (txId != null) producer.commitTransaction();
      else producer.flush();
      for (int i = 0; i < sent.size(); i++) {
        RecordMetadata m = sent.get(i).get();
        ObjectNode out = JSON.createObjectNode().put("topic", m.topic()).put("partition", m.partition()).put("offset", m.offset()).put("key", keys.get(i));
        if (schemaId >= 0) out.put("schemaId", schemaId);
        System.out.println(JSON.writeValueAsString(out));
      }
    }
  }

  /** The Confluent wire format: magic byte 0, the schema id (4 bytes, big-endian), Avro binary. */
  static byte[] confluentAvro(int schemaId, GenericRecord record) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.write(0);
    out.write(new byte[] {(byte) (schemaId >>> 24), (byte) (schemaId >>> 16), (byte) (schemaId >>> 8), (byte) schemaId});
    BinaryEncoder enc = EncoderFactory.get().directBinaryEncoder(out, null);
    new GenericDatumWriter<GenericRecord>(record.getSchema()).write(record, enc);
    enc.flush();
    return out.toByteArray();
  }

  /** Registers {@code schema} under {@code subject} (ccompat API) and returns its id. */
  static int register(String registryUrl, String subject, Schema schema) throws IOException, InterruptedException {
    String body = JSON.writeValueAsString(Map.of("schema", schema.toString()));
    HttpRequest req = HttpRequest.newBuilder(URI.create(registryUrl.replaceAll("/+$", "") + "/subjects/" + URLEncoder.encode(subject, StandardCharsets.UTF_8) + "/versions"))
        .timeout(Duration.ofSeconds(30))
        .header("Content-Type", "application/vnd.schemaregistry.v1+json")
        .POST(HttpRequest.BodyPublishers.ofString(body))
        .build();
    HttpResponse<String> res = HTTP.send(req, HttpResponse.BodyHandlers.ofString());
    if (res.statusCode() / 100 != 2) throw new RegistryException(res.statusCode(), "registering the schema of " + subject + " failed: HTTP " + res.statusCode() + " " + res.body());
    return JSON.readTree(res.body()).get("id").asInt();
  }

  static final class RegistryException extends IOException {
    final int status;

    RegistryException(int status, String message) {
      super(message);
      this.status = status;
    }
  }

  /**
   * A JSON event as a value of {@code schema}: fields by name, absent or null fields take
   * their default (or null in a nullable union), fields the schema lacks are left out, and an
   * ISO-8601 string is accepted for a timestamp-millis long.
   */
  static Object fromJson(JsonNode node, Schema schema) {
    switch (schema.getType()) {
      case RECORD: {
        if (!node.isObject()) throw new IllegalArgumentException(schema.getFullName() + ": expected an object, got " + node.getNodeType());
        GenericData.Record rec = new GenericData.Record(schema);
        for (Schema.Field f : schema.getFields()) {
          JsonNode v = node.get(f.name());
          if (v == null || v.isNull()) rec.put(f.pos(), f.hasDefaultValue() ? GenericData.get().getDefaultValue(f) : null);
          else rec.put(f.pos(), fromJson(v, f.schema()));
        }
        return rec;
      }
      case UNION: {
        if (node == null || node.isNull()) return null;
        for (Schema branch : schema.getTypes()) {
          if (branch.getType() != Schema.Type.NULL && fits(node, branch)) return fromJson(node, branch);
        }
        throw new IllegalArgumentException("no branch of " + schema + " takes " + node.getNodeType());
      }
      case ARRAY: {
        List<Object> items = new ArrayList<>();
        node.forEach(n -> items.add(fromJson(n, schema.getElementType())));
        return new GenericData.Array<>(schema, items);
      }
      case MAP: {
        Map<String, Object> map = new LinkedHashMap<>();
        node.fields().forEachRemaining(e -> map.put(e.getKey(), fromJson(e.getValue(), schema.getValueType())));
        return map;
      }
      case ENUM:
        return new GenericData.EnumSymbol(schema, node.asText());
      case STRING:
        return node.asText();
      case LONG:
        if (node.isTextual() && schema.getLogicalType() instanceof LogicalTypes.TimestampMillis) return OffsetDateTime.parse(node.asText()).toInstant().toEpochMilli();
        return node.asLong();
      case INT:
        return node.asInt();
      case DOUBLE:
        return node.asDouble();
      case FLOAT:
        return (float) node.asDouble();
      case BOOLEAN:
        return node.asBoolean();
      default:
        throw new IllegalArgumentException("unsupported schema type " + schema.getType());
    }
  }

  private static boolean fits(JsonNode node, Schema s) {
    switch (s.getType()) {
      case RECORD: case MAP: return node.isObject();
      case ARRAY: return node.isArray();
      case STRING: case ENUM: return node.isTextual();
      case LONG: return node.isIntegralNumber() || (node.isTextual() && s.getLogicalType() instanceof LogicalTypes.TimestampMillis);
      case INT: return node.isIntegralNumber();
      case DOUBLE: case FLOAT: return node.isNumber();
      case BOOLEAN: return node.isBoolean();
      default: return false;
    }
  }

  private static String bundled(String name) throws IOException {
    try (InputStream in = RawEventProducer.class.getResourceAsStream("/" + name)) {
      if (in == null) throw new IOException("missing resource " + name);
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
  }

  private static List<String> readLines(InputStream in) throws IOException {
    List<String> lines = new ArrayList<>();
    BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8));
    for (String l = r.readLine(); l != null; l = r.readLine()) if (!l.isBlank()) lines.add(l);
    return lines;
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
