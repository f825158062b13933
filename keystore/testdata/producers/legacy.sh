#!/usr/bin/env bash
# Regenerates the legacy-* fixtures (issue 22): Java 8's PKCS#12 layout, RC2 from
# OpenSSL and NSS, truststores of certificates on curves Go does not parse, and
# PEM keys of algorithms TLS in Go cannot use. gen.sh runs it; it can run alone.
# Needs: openssl 3 (with the legacy provider), a JDK 17 (keytool, java), libnss3-tools.
#
# No Java 8 runtime is installed here: keytool 17 writes Java 8's layout when
# asked through the properties it honours (JDK-8264362 and the java.security
# keystore.pkcs12.* settings): -J-Dkeystore.pkcs12.legacy gives RC2-40 for
# certificates, 3DES for keys and an HMAC-SHA-1 MAC, exactly what Java 8 wrote;
# keystore.pkcs12.certProtectionAlgorithm / keyProtectionAlgorithm choose others.
#
# PBMAC1 (RFC 9579): the installed OpenSSL is 3.0, which has no -pbmac1_pbkdf2
# (3.4+ has), and keytool 17 cannot write PBMAC1 (JDK 24+ can). The MAC is
# tested with RFC 9579's own Appendix A vectors (pbmac1/, see pbmac1/SOURCE).
# If this openssl gains the option, a producer fixture is written as well.
#
# Passwords: store "changeit", key "keypass" where a name says keypass.
set -euo pipefail
cd "$(dirname "$0")"
export LC_ALL=C.UTF-8

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
SP=changeit
KP=keypass
DAYS=36500
rm -f legacy-*

ext() { printf '%s\n' "$@" > "$work/ext.cnf"; }
kt() { keytool -noprompt "$@" >/dev/null 2>&1 || { echo "keytool $*" >&2; keytool -noprompt "$@"; }; }
J8=(-J-Dkeystore.pkcs12.legacy)

# --- A PKI of its own: root -> intermediate -> client --------------------------------------
openssl req -x509 -newkey rsa:2048 -nodes -sha256 -days $DAYS -subj "/O=sfmtls legacy/CN=Legacy Root CA" \
  -addext "basicConstraints=critical,CA:true" -addext "keyUsage=critical,keyCertSign,cRLSign" \
  -keyout "$work/root.key" -out "$work/root.crt" 2>/dev/null
openssl req -new -newkey rsa:2048 -nodes -subj "/O=sfmtls legacy/CN=Legacy Intermediate CA" \
  -keyout "$work/inter.key" -out "$work/inter.csr" 2>/dev/null
ext "basicConstraints=critical,CA:true,pathlen:0" "keyUsage=critical,keyCertSign,cRLSign"
openssl x509 -req -in "$work/inter.csr" -CA "$work/root.crt" -CAkey "$work/root.key" -set_serial 2 \
  -days $DAYS -sha256 -extfile "$work/ext.cnf" -out "$work/inter.crt" 2>/dev/null
leaf() { # name CN genpkey-args...
  local name=$1 cn=$2; shift 2
  openssl genpkey "$@" -out "$work/$name.key" 2>/dev/null
  openssl req -new -key "$work/$name.key" -subj "/O=sfmtls legacy/CN=$cn" -out "$work/$name.csr"
  ext "basicConstraints=critical,CA:false" "keyUsage=critical,digitalSignature" "extendedKeyUsage=clientAuth"
  openssl x509 -req -in "$work/$name.csr" -CA "$work/inter.crt" -CAkey "$work/inter.key" -set_serial "0x$(openssl rand -hex 8)" \
    -days $DAYS -sha256 -extfile "$work/ext.cnf" -out "$work/$name.crt" 2>/dev/null
}
leaf rsa "legacy.producer@example.com" -algorithm RSA -pkeyopt rsa_keygen_bits:2048
leaf ec "ec.legacy.producer@example.com" -algorithm EC -pkeyopt ec_paramgen_curve:P-256
openssl pkcs12 -export -name client -inkey "$work/rsa.key" -in "$work/rsa.crt" -certfile "$work/inter.crt" \
  -passout pass:$SP -out "$work/client.p12"
cp "$work/root.crt" legacy-root-ca.pem

# --- Java 8's PKCS#12, written by keytool 17 with the legacy properties --------------------
# A key entry (3DES) with its chain (RC2-40) and a trusted root beside it, SHA-1 MAC.
kt "${J8[@]}" -importkeystore -srckeystore "$work/client.p12" -srcstoretype PKCS12 -srcstorepass $SP \
  -destkeystore legacy-java8-keytool.p12 -deststoretype PKCS12 -deststorepass $SP
kt "${J8[@]}" -importcert -alias root -file "$work/root.crt" -keystore legacy-java8-keytool.p12 -storetype PKCS12 -storepass $SP
# The key password unlike the store's, as Java 8's keytool -keypass and the KeyStore API write it.
java -Dkeystore.pkcs12.legacy JavaKeyPass.java "$work/client.p12" $SP $KP legacy-java8-keypass.p12
# Certificates only: a Java 8 truststore (every certificate under RC2-40).
kt "${J8[@]}" -importcert -alias root -file "$work/root.crt" -keystore legacy-java8-truststore.p12 -storetype PKCS12 -storepass $SP
kt "${J8[@]}" -importcert -alias intermediate -file "$work/inter.crt" -keystore legacy-java8-truststore.p12 -storetype PKCS12 -storepass $SP
# RC2-128 for both certificates and the key, through the per-part properties.
kt -J-Dkeystore.pkcs12.certProtectionAlgorithm=PBEWithSHA1AndRC2_128 \
   -J-Dkeystore.pkcs12.keyProtectionAlgorithm=PBEWithSHA1AndRC2_128 -J-Dkeystore.pkcs12.macAlgorithm=HmacPBESHA1 \
   -importkeystore -srckeystore "$work/client.p12" -srcstoretype PKCS12 -srcstorepass $SP \
   -destkeystore legacy-java-rc2-128.p12 -deststoretype PKCS12 -deststorepass $SP

# --- OpenSSL 3 with the legacy provider --------------------------------------------------
openssl pkcs12 -export -legacy -name client -inkey "$work/ec.key" -in "$work/ec.crt" -certfile "$work/inter.crt" \
  -certpbe PBE-SHA1-RC2-128 -keypbe PBE-SHA1-RC2-40 -passout pass:$SP -out legacy-openssl-rc2-128.p12
# One iteration everywhere: a fuzz seed that reaches RC2 under the fuzz tests' low iteration cap.
openssl pkcs12 -export -legacy -iter 1 -name client -inkey "$work/ec.key" -in "$work/ec.crt" -certfile "$work/inter.crt" \
  -passout pass:$SP -out legacy-openssl-rc2-iter1.p12
openssl pkcs12 -export -legacy -nokeys -in "$work/inter.crt" -certfile "$work/root.crt" \
  -passout pass:$SP -out legacy-openssl-nokeys.p12

# --- NSS pk12util: BER, one safe per bag, RC2-40 for certificates -------------------------
mkdir "$work/nss"
certutil -N -d "sql:$work/nss" --empty-password
pk12util -i "$work/client.p12" -d "sql:$work/nss" -W $SP >/dev/null
pk12util -o legacy-nss-rc2.p12 -n client -d "sql:$work/nss" -W $SP \
  -C "PKCS #12 V2 PBE With SHA-1 And 40 Bit RC2 CBC" -c "PKCS #12 V2 PBE With SHA-1 And 3KEY Triple DES-CBC" >/dev/null

# --- Truststores of certificates on curves Go does not parse (keytool lists them) ----------
for curve in brainpoolP256r1 secp256k1; do
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:$curve -nodes -sha256 -days $DAYS -set_serial 0x$(openssl rand -hex 8) \
    -subj "/O=sfmtls legacy/CN=$curve CA" -keyout "$work/$curve.key" -out "$work/$curve.crt" 2>/dev/null
  kt -importcert -alias "$curve" -file "$work/$curve.crt" -keystore legacy-odd-curves.jks -storetype JKS -storepass $SP
  kt "${J8[@]}" -importcert -alias "$curve" -file "$work/$curve.crt" -keystore legacy-odd-curves.p12 -storetype PKCS12 -storepass $SP
done
# A key entry whose chain holds a CA on secp256k1: the entry loads, the CA is left out with a warning.
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$work/k1leaf.key" 2>/dev/null
openssl req -new -key "$work/k1leaf.key" -subj "/O=sfmtls legacy/CN=k1chain.legacy@example.com" -out "$work/k1leaf.csr"
ext "basicConstraints=critical,CA:false" "keyUsage=critical,digitalSignature" "extendedKeyUsage=clientAuth"
openssl x509 -req -in "$work/k1leaf.csr" -CA "$work/secp256k1.crt" -CAkey "$work/secp256k1.key" -set_serial 7 \
  -days $DAYS -sha256 -extfile "$work/ext.cnf" -out "$work/k1leaf.crt" 2>/dev/null
openssl pkcs12 -export -name client -inkey "$work/k1leaf.key" -in "$work/k1leaf.crt" -certfile "$work/secp256k1.crt" \
  -passout pass:$SP -out "$work/k1chain.p12"
kt -importkeystore -srckeystore "$work/k1chain.p12" -srcstoretype PKCS12 -srcstorepass $SP \
  -destkeystore legacy-odd-curve-chain.jks -deststoretype JKS -deststorepass $SP
kt -importcert -alias root -file "$work/root.crt" -keystore legacy-odd-curves.jks -storetype JKS -storepass $SP
cat "$work/brainpoolP256r1.crt" "$work/root.crt" > legacy-odd-curves.pem

# --- PEM keys TLS in Go cannot use: they are refused by name, never as corrupt ------------
openssl genpkey -genparam -algorithm DSA -pkeyopt dsa_paramgen_bits:2048 -out "$work/dsa.param" 2>/dev/null
openssl genpkey -paramfile "$work/dsa.param" -out legacy-dsa-pkcs8.pem
openssl pkey -in legacy-dsa-pkcs8.pem -traditional -out legacy-dsa-traditional.pem
openssl pkcs8 -topk8 -in legacy-dsa-pkcs8.pem -v2 aes-256-cbc -passout pass:$KP -out legacy-dsa-encrypted.pem
openssl genpkey -algorithm RSA-PSS -pkeyopt rsa_keygen_bits:2048 -out legacy-rsapss-pkcs8.pem 2>/dev/null
openssl pkcs8 -topk8 -in legacy-rsapss-pkcs8.pem -v2 aes-256-cbc -passout pass:$KP -out legacy-rsapss-encrypted.pem
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:secp256k1 | openssl ec -out legacy-secp256k1-sec1.pem 2>/dev/null
openssl req -x509 -key legacy-dsa-pkcs8.pem -subj "/O=sfmtls legacy/CN=dsa.legacy@example.com" -days $DAYS -out legacy-dsa-cert.pem

# --- PBMAC1, where this openssl writes it ---------------------------------------------------
if openssl pkcs12 -help 2>&1 | grep -q -- -pbmac1_pbkdf2; then
  openssl pkcs12 -export -pbmac1_pbkdf2 -macalg sha256 -name client -inkey "$work/rsa.key" -in "$work/rsa.crt" \
    -certfile "$work/inter.crt" -passout pass:$SP -out legacy-openssl-pbmac1.p12
fi

# --- Fuzz seeds for the RC2, PBMAC1, odd-curve and refused-key paths ------------------------
seed() { # target name file
  mkdir -p "../fuzz/$1"
  python3 - "../fuzz/$1/$2" "$3" <<'PY'
import sys
data = open(sys.argv[2], "rb").read()
open(sys.argv[1], "w").write('go test fuzz v1\n[]byte("%s")\n' % "".join("\\x%02x" % b for b in data))
PY
}
for f in legacy-java8-keytool.p12 legacy-java8-truststore.p12 legacy-nss-rc2.p12 legacy-openssl-rc2-128.p12 legacy-odd-curves.p12 legacy-openssl-rc2-iter1.p12; do
  seed FuzzPKCS12 "$f" "$f"
done
for v in A.1 A.6; do seed FuzzPKCS12 "pbmac1-$v" "../pbmac1/$v.p12"; done
for f in legacy-odd-curves.jks legacy-odd-curve-chain.jks; do seed FuzzJavaStore "$f" "$f"; done
for f in legacy-odd-curves.pem legacy-dsa-traditional.pem legacy-rsapss-encrypted.pem legacy-secp256k1-sec1.pem; do
  seed FuzzPEM "$f" "$f"
done
