// Applies the secure profile's Kafka users and ACLs, in one JVM (deploy/local/secure.sh runs
// it as a single-file program: java -cp "<kafka libs>/*" SecureSetup.java <client.properties>).
//
// Reads the plan from stdin, one item a line (never from argv, so no password shows in ps):
//   user <name> <password>                                        SCRAM-SHA-512 credential (created or reset)
//   acl <principal> <TOPIC|GROUP> <LITERAL|PREFIXED> <name> <OPERATION>   an ALLOW entry for any host
// Idempotent: Kafka keeps one copy of an ACL that is created twice. Prints counts, never a password.
import java.io.BufferedReader;
import java.io.FileInputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ScramCredentialInfo;
import org.apache.kafka.clients.admin.ScramMechanism;
import org.apache.kafka.clients.admin.UserScramCredentialAlteration;
import org.apache.kafka.clients.admin.UserScramCredentialUpsertion;
import org.apache.kafka.common.acl.AccessControlEntry;
import org.apache.kafka.common.acl.AclBinding;
import org.apache.kafka.common.acl.AclBindingFilter;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.acl.AclPermissionType;
import org.apache.kafka.common.errors.ResourceNotFoundException;
import org.apache.kafka.common.resource.PatternType;
import org.apache.kafka.common.resource.ResourcePattern;
import org.apache.kafka.common.resource.ResourceType;

public class SecureSetup {
  public static void main(String[] args) throws Exception {
    if (args.length != 2) throw new IllegalArgumentException("usage: SecureSetup <client.properties> <bootstrap>");
    Properties props = new Properties();
    try (FileInputStream in = new FileInputStream(args[0])) {
      props.load(in);
    }
    props.put("bootstrap.servers", args[1]);
    props.put("default.api.timeout.ms", "30000");

    List<UserScramCredentialAlteration> users = new ArrayList<>();
    List<AclBinding> acls = new ArrayList<>();
    BufferedReader plan = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
    int lineNo = 0;
    for (String line; (line = plan.readLine()) != null; ) {
      lineNo++;
      line = line.trim();
      if (line.isEmpty() || line.startsWith("#")) continue;
      String[] f = line.split("\\s+");
      if (f[0].equals("user") && f.length == 3) {
        users.add(new UserScramCredentialUpsertion(f[1], new ScramCredentialInfo(ScramMechanism.SCRAM_SHA_512, 8192), f[2]));
      } else if (f[0].equals("acl") && f.length == 6) {
        ResourcePattern resource = new ResourcePattern(ResourceType.valueOf(f[2]), f[4], PatternType.valueOf(f[3]));
        acls.add(new AclBinding(resource, new AccessControlEntry("User:" + f[1], "*", AclOperation.valueOf(f[5]), AclPermissionType.ALLOW)));
      } else {
        throw new IllegalArgumentException("plan line " + lineNo + ": expected `user <name> <password>` or `acl <principal> <type> <pattern> <name> <operation>`");
      }
    }
    try (Admin admin = Admin.create(props)) {
      if (!users.isEmpty()) admin.alterUserScramCredentials(users).all().get();
      if (!acls.isEmpty()) admin.createAcls(acls).all().get();
      // The controller has committed them; wait until the broker's own authorizer answers
      // with every one (DescribeAcls is served from it), so whoever runs next is not refused.
      long deadline = System.currentTimeMillis() + 30_000;
      while (!admin.describeAcls(AclBindingFilter.ANY).values().get().containsAll(acls)) {
        if (System.currentTimeMillis() > deadline) throw new IllegalStateException("the broker did not apply the ACLs within 30 s");
        Thread.sleep(100);
      }
      List<String> names = new ArrayList<>();
      for (UserScramCredentialAlteration u : users) names.add(u.user());
      while (!names.isEmpty() && !allUsersKnown(admin, names)) {
        if (System.currentTimeMillis() > deadline) throw new IllegalStateException("the broker did not apply the SCRAM users within 30 s");
        Thread.sleep(100);
      }
    }
    System.out.println("secure setup: " + users.size() + " SCRAM users, " + acls.size() + " ACL entries");
  }

  /** True once the broker describes every one of `names` (an unknown user fails the call). */
  private static boolean allUsersKnown(Admin admin, List<String> names) throws InterruptedException {
    try {
      return admin.describeUserScramCredentials(names).all().get().size() == names.size();
    } catch (ExecutionException e) {
      if (e.getCause() instanceof ResourceNotFoundException) return false;
      throw new IllegalStateException("describing the SCRAM users failed", e.getCause());
    }
  }
}
