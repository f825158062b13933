// Writes a PKCS#12 whose private key is protected by a password unlike the
// store's, as the Java KeyStore API allows (keytool does not), for gen.sh:
// java JavaKeyPass.java IN.p12 STOREPASS KEYPASS OUT.p12
import java.io.FileInputStream;
import java.io.FileOutputStream;
import java.security.Key;
import java.security.KeyStore;

public class JavaKeyPass {
    public static void main(String[] a) throws Exception {
        char[] sp = a[1].toCharArray(), kp = a[2].toCharArray();
        KeyStore in = KeyStore.getInstance("PKCS12");
        try (FileInputStream f = new FileInputStream(a[0])) { in.load(f, sp); }
        Key key = in.getKey("client", sp);
        KeyStore out = KeyStore.getInstance("PKCS12");
        out.load(null, null);
        out.setKeyEntry("client", key, kp, in.getCertificateChain("client"));
        try (FileOutputStream f = new FileOutputStream(a[3])) { out.store(f, sp); }
    }
}
