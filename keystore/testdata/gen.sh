#!/usr/bin/env bash
# Regenerates every keystore fixture in this folder with openssl and the JDK's keytool.
# The outputs are committed so that tests need neither tool; run this only to change them.
#
# Passwords: store "changeit", separate key password "keypass" where a file name says -keypass.
set -euo pipefail
cd "$(dirname "$0")"
export LC_ALL=C

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

SP=changeit   # store password
KP=keypass    # key password, where it differs from the store password
DAYS=36500    # fixtures must not expire while the project lives

rm -f ./*.srl ./*.pem ./*.p12 ./*.pfx ./*.jks ./*.jceks ./*.bin ./*.der

ext() { printf '%s\n' "$@" > "$work/ext.cnf"; }

# --- A small PKI: root CA -> intermediate CA -> client certificates -------------------------
openssl req -x509 -newkey rsa:2048 -nodes -sha256 -days $DAYS \
  -subj "/O=sfmtls test/CN=sfmtls Test Root CA" \
  -addext "basicConstraints=critical,CA:true" -addext "keyUsage=critical,keyCertSign,cRLSign" \
  -keyout "$work/root.key" -out root-ca.pem 2>/dev/null

openssl req -new -newkey rsa:2048 -nodes -subj "/O=sfmtls test/CN=sfmtls Test Intermediate CA" \
  -keyout "$work/inter.key" -out "$work/inter.csr" 2>/dev/null
ext "basicConstraints=critical,CA:true,pathlen:0" "keyUsage=critical,keyCertSign,cRLSign"
openssl x509 -req -in "$work/inter.csr" -CA root-ca.pem -CAkey "$work/root.key" -CAserial "$work/ca.srl" -CAcreateserial \
  -days $DAYS -sha256 -extfile "$work/ext.cnf" -out intermediate-ca.pem 2>/dev/null

client_cert() { # name keyspec CN
  local name=$1 keyspec=$2 cn=$3
  if [ "$keyspec" = ec ]; then
    openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$work/$name.key"
  else
    openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$work/$name.key" 2>/dev/null
  fi
  openssl req -new -key "$work/$name.key" -subj "/O=sfmtls test/CN=$cn" -out "$work/$name.csr"
  ext "basicConstraints=critical,CA:false" "keyUsage=critical,digitalSignature,keyEncipherment" \
      "extendedKeyUsage=clientAuth"
  openssl x509 -req -in "$work/$name.csr" -CA intermediate-ca.pem -CAkey "$work/inter.key" \
    -CAserial "$work/ca.srl" -CAcreateserial -days $DAYS -sha256 -extfile "$work/ext.cnf" -out "$work/$name.crt" 2>/dev/null
}
client_cert client rsa "integration.user@example.com"
client_cert ecclient ec "ec.integration.user@example.com"

# The JWT signing certificate is self-signed, as Salesforce allows for the connected app.
openssl req -x509 -newkey rsa:2048 -nodes -sha256 -days $DAYS -subj "/O=sfmtls test/CN=sfmtls JWT signer" \
  -keyout "$work/jwt.key" -out "$work/jwt.crt" 2>/dev/null

cat "$work/client.crt" intermediate-ca.pem > "$work/client-chain.crt"
cat "$work/ecclient.crt" intermediate-ca.pem > "$work/ecclient-chain.crt"

# --- PEM ----------------------------------------------------------------------------------
cp "$work/client-chain.crt" client-chain.pem
openssl pkey -in "$work/client.key" -out client-key-pkcs8.pem
openssl rsa -in "$work/client.key" -traditional -out client-key-pkcs1.pem 2>/dev/null
openssl ec -in "$work/ecclient.key" -out ecclient-key-sec1.pem 2>/dev/null
cp "$work/ecclient-chain.crt" ecclient-chain.pem
openssl pkcs8 -topk8 -in "$work/client.key" -v2 aes-256-cbc -v2prf hmacWithSHA256 \
  -passout pass:$KP -out client-key-pbes2.pem
openssl pkcs8 -topk8 -in "$work/ecclient.key" -v2 des3 -passout pass:$KP -out ecclient-key-pbes2-des3.pem
openssl rsa -in "$work/client.key" -traditional -aes256 -passout pass:$KP -out client-key-legacy-enc.pem 2>/dev/null
cat "$work/client-chain.crt" client-key-pkcs8.pem > client-combined.pem
cat client-key-pkcs1.pem "$work/client-chain.crt" > client-combined-key-first.pem
cat "$work/client.crt" > client-leaf-only.pem
openssl pkey -in "$work/jwt.key" -out jwt-key.pem
cp "$work/jwt.crt" jwt-cert.pem
# A key that does not belong to the certificate beside it.
cat "$work/client-chain.crt" "$work/jwt.key" > mismatch.pem

# --- PKCS#12 from OpenSSL 3 ---------------------------------------------------------------
# Default: PBES2 / AES-256-CBC / PBKDF2-SHA256, SHA-256 MAC.
openssl pkcs12 -export -name client -inkey "$work/client.key" -in "$work/client.crt" \
  -certfile <(cat intermediate-ca.pem root-ca.pem) -passout pass:$SP -out client-openssl.p12
# -legacy: RC2-40 for certificates, 3DES for the key, SHA-1 MAC.
openssl pkcs12 -export -legacy -name client -inkey "$work/client.key" -in "$work/client.crt" \
  -certfile intermediate-ca.pem -passout pass:$SP -out client-legacy.pfx
openssl pkcs12 -export -name client -inkey "$work/client.key" -in "$work/client.crt" \
  -certfile intermediate-ca.pem -passout pass: -out client-emptypass.p12
openssl pkcs12 -export -name ecclient -inkey "$work/ecclient.key" -in "$work/ecclient.crt" \
  -certfile intermediate-ca.pem -passout pass:$SP -out ecclient-openssl.p12
openssl pkcs12 -export -name jwt -inkey "$work/jwt.key" -in "$work/jwt.crt" \
  -passout pass:$SP -out "$work/jwt.p12"

# --- Java keytool -------------------------------------------------------------------------
kt() { keytool -noprompt "$@" >/dev/null 2>&1; }
# Java 17 PKCS#12: PBES2 with HmacPBESHA256 MAC. Named .jks on purpose: Java 9+ does this.
kt -importkeystore -srckeystore client-openssl.p12 -srcstoretype PKCS12 -srcstorepass $SP \
  -destkeystore client-pkcs12.jks -deststoretype PKCS12 -deststorepass $SP
kt -importkeystore -srckeystore client-openssl.p12 -srcstoretype PKCS12 -srcstorepass $SP \
  -destkeystore client-keytool.p12 -deststoretype PKCS12 -deststorepass $SP
# Two private keys in one PKCS#12, chosen by alias.
cp client-keytool.p12 multi-key.p12
kt -importkeystore -srckeystore ecclient-openssl.p12 -srcstoretype PKCS12 -srcstorepass $SP \
  -destkeystore multi-key.p12 -deststoretype PKCS12 -deststorepass $SP

# JKS and JCEKS: key password differs from store password, a trusted CA entry beside the key.
for type in JKS JCEKS; do
  lower=$(echo $type | tr 'A-Z' 'a-z')
  out=client-keypass.$lower
  kt -importkeystore -srckeystore client-openssl.p12 -srcstoretype PKCS12 -srcstorepass $SP \
    -destkeystore $out -deststoretype $type -deststorepass $SP -destkeypass $KP -srcalias client
  kt -importcert -trustcacerts -alias rootca -file root-ca.pem -keystore $out -storetype $type -storepass $SP
  # Same store with the key password equal to the store password, and an EC key as well.
  out=client.$lower
  kt -importkeystore -srckeystore client-openssl.p12 -srcstoretype PKCS12 -srcstorepass $SP \
    -destkeystore $out -deststoretype $type -deststorepass $SP -srcalias client -destalias Client-Cert
  kt -importkeystore -srckeystore ecclient-openssl.p12 -srcstoretype PKCS12 -srcstorepass $SP \
    -destkeystore $out -deststoretype $type -deststorepass $SP -srcalias ecclient
done
# The MuleSoft layout: mtls.jks holds the CA-signed client certificate, mulesoft.jks the JWT key.
kt -importkeystore -srckeystore client-openssl.p12 -srcstoretype PKCS12 -srcstorepass $SP \
  -destkeystore mtls.jks -deststoretype JKS -deststorepass $SP -srcalias client -destalias mtls
kt -importkeystore -srckeystore "$work/jwt.p12" -srcstoretype PKCS12 -srcstorepass $SP \
  -destkeystore mulesoft.jks -deststoretype JKS -deststorepass $SP -srcalias jwt -destalias mulesoft
# A trust store only, and a JCEKS holding a secret key next to a private key.
kt -importcert -trustcacerts -alias rootca -file root-ca.pem -keystore truststore.jks -storetype JKS -storepass $SP
cp client-keypass.jceks secretkey.jceks
kt -genseckey -alias aeskey -keyalg AES -keysize 128 -keystore secretkey.jceks -storetype JCEKS \
  -storepass $SP -keypass $SP

# Java PKCS#12 with trusted-certificate entries (they carry Oracle's trusted-key-usage attribute).
kt -importcert -trustcacerts -alias rootca -file root-ca.pem -keystore truststore.p12 -storetype PKCS12 -storepass $SP
cp client-keytool.p12 client-with-ca.p12
kt -importcert -trustcacerts -alias rootca -file root-ca.pem -keystore client-with-ca.p12 -storetype PKCS12 -storepass $SP

# --- Broken files ------------------------------------------------------------------------
head -c 600 client-openssl.p12 > truncated.p12
head -c 900 client.jks > truncated.jks
head -c 900 client.jceks > truncated.jceks
head -c 700 client-key-pkcs8.pem > truncated-key.pem
# One byte flipped in the signature of the last certificate: structure intact, contents altered.
cp client.jks corrupt.jks
printf '\xff' | dd of=corrupt.jks bs=1 seek=$(( $(stat -c%s client.jks) - 30 )) conv=notrunc 2>/dev/null
head -c 2048 /dev/urandom > random.bin
printf 'this is not a keystore\n' > notakeystore.bin



# --- Fuzz seed corpora (testdata/fuzz/<target>/<seed>), in go test's corpus format ----------
rm -rf fuzz
seed() { # target name file...
  local target=$1 name=$2; shift 2
  mkdir -p "fuzz/$target"
  python3 - "fuzz/$target/$name" "$@" <<'PY'
import sys
out, files = sys.argv[1], sys.argv[2:]
data = b"".join(open(f, "rb").read() for f in files)
esc = "".join(chr(b) if 32 <= b < 127 and chr(b) not in '"\\' else "\\x%02x" % b for b in data)
open(out, "w").write('go test fuzz v1\n[]byte("%s")\n' % esc)
PY
}
for f in client.jks truncated.jceks client-openssl.p12 client-legacy.pfx client-combined.pem truncated.jks random.bin; do
  seed FuzzDetectFormat "$f" "$f"
  seed FuzzLoad "$f" "$f"
done
seed FuzzLoad client-key-pbes2.pem client-chain.pem client-key-pbes2.pem
seed FuzzLoad client-key-legacy-enc.pem client-chain.pem client-key-legacy-enc.pem
for f in client.jks client-keypass.jks client.jceks client-keypass.jceks mulesoft.jks corrupt.jks truncated.jceks; do
  seed FuzzJavaStore "$f" "$f"
done
# The protected key of the first JCEKS entry: its length sits at a fixed offset after the alias.
python3 - client-keypass.jceks fuzz/FuzzJCEKSKey <<'PY'
import os, struct, sys
d = open(sys.argv[1], "rb").read()
off = 12
while True:
    tag = struct.unpack(">I", d[off:off+4])[0]; off += 4
    alen = struct.unpack(">H", d[off:off+2])[0]; off += 2 + alen + 8
    if tag == 1:
        klen = struct.unpack(">I", d[off:off+4])[0]; key = d[off+4:off+4+klen]; break
    off += 2 + struct.unpack(">H", d[off:off+2])[0]
    off += 4 + struct.unpack(">I", d[off:off+4])[0]
os.makedirs(sys.argv[2], exist_ok=True)
esc = "".join("\\x%02x" % b for b in key)
open(os.path.join(sys.argv[2], "client-keypass"), "w").write('go test fuzz v1\n[]byte("%s")\n' % esc)
PY
for f in client-combined.pem client-combined-key-first.pem client-key-pbes2.pem client-key-legacy-enc.pem \
         ecclient-key-pbes2-des3.pem ecclient-key-sec1.pem mismatch.pem truncated-key.pem; do
  seed FuzzPEM "$f" "$f"
done
for f in client-key-pbes2.pem ecclient-key-pbes2-des3.pem; do
  sed '1d;$d' "$f" | base64 -d > "$work/$f.der"
  seed FuzzPKCS8 "$f" "$work/$f.der"
done
for f in client-openssl.p12 client-legacy.pfx client-emptypass.p12 multi-key.p12 client-with-ca.p12 truststore.p12 truncated.p12; do
  seed FuzzPKCS12 "$f" "$f"
done

# --- Keystores from every other producer (NSS, Python, node-forge, go-pkcs12, the Java API) ---
./producers/gen.sh
