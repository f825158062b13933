#!/usr/bin/env bash
# Regenerates the keystores in this folder with the producers users' files come
# from: OpenSSL 3, the JDK (keytool and the KeyStore API), NSS's pk12util (what
# Firefox exports), Python's cryptography, node-forge and go-pkcs12. The outputs
# are committed; tests do not need these tools. Needs: openssl, a JDK (keytool,
# java), libnss3-tools, python3 with cryptography, node and npm, go.
#
# Passwords: store "changeit", key "keypass" where a name says keypass, and
# "pässwörd€" (beyond Latin-1) where a name says unicode.
set -euo pipefail
cd "$(dirname "$0")"
export LC_ALL=C.UTF-8   # keytool reads non-ASCII passwords and aliases from argv as UTF-8

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

SP=changeit
KP=keypass
UP='pässwörd€'
DAYS=36500

rm -f ./*.p12 ./*.pfx ./*.jks ./*.jceks ./*.pem ./*.bks

ext() { printf '%s\n' "$@" > "$work/ext.cnf"; }

# --- PKI: root -> intermediate -> client, and odd keys signed by the intermediate ----------
openssl req -x509 -newkey rsa:2048 -nodes -sha256 -days $DAYS -subj "/O=sfmtls producers/CN=Producers Root CA" \
  -addext "basicConstraints=critical,CA:true" -addext "keyUsage=critical,keyCertSign,cRLSign" \
  -keyout "$work/root.key" -out "$work/root.crt" 2>/dev/null
openssl req -new -newkey rsa:2048 -nodes -subj "/O=sfmtls producers/CN=Producers Intermediate CA" \
  -keyout "$work/inter.key" -out "$work/inter.csr" 2>/dev/null
ext "basicConstraints=critical,CA:true,pathlen:0" "keyUsage=critical,keyCertSign,cRLSign"
openssl x509 -req -in "$work/inter.csr" -CA "$work/root.crt" -CAkey "$work/root.key" -set_serial 2 \
  -days $DAYS -sha256 -extfile "$work/ext.cnf" -out "$work/inter.crt" 2>/dev/null
# A second-level CA certified with an MD5 signature (old PKIs still hold such), and a client under it.
openssl req -new -newkey rsa:2048 -nodes -subj "/O=sfmtls producers/CN=Producers MD5-Signed CA" \
  -keyout "$work/md5ca.key" -out "$work/md5ca.csr" 2>/dev/null
openssl x509 -req -in "$work/md5ca.csr" -CA "$work/inter.crt" -CAkey "$work/inter.key" -set_serial 3 \
  -days $DAYS -md5 -extfile "$work/ext.cnf" -out "$work/md5ca.crt" 2>/dev/null

leaf() { # name CN eku key-generation-args...
  local name=$1 cn=$2 eku=$3; shift 3
  openssl genpkey "$@" -out "$work/$name.key" 2>/dev/null
  openssl req -new -key "$work/$name.key" -subj "/O=sfmtls producers/CN=$cn" -out "$work/$name.csr"
  ext "basicConstraints=critical,CA:false" "keyUsage=critical,digitalSignature" "extendedKeyUsage=$eku"
  openssl x509 -req -in "$work/$name.csr" -CA "$work/inter.crt" -CAkey "$work/inter.key" -set_serial "0x$(openssl rand -hex 8)" \
    -days $DAYS -sha256 -extfile "$work/ext.cnf" -out "$work/$name.crt" 2>/dev/null
  cat "$work/$name.crt" "$work/inter.crt" > "$work/$name-chain.crt"
}
leaf rsa "rsa.producer@example.com" clientAuth -algorithm RSA -pkeyopt rsa_keygen_bits:2048
leaf second "second.producer@example.com" clientAuth -algorithm EC -pkeyopt ec_paramgen_curve:P-256
leaf p384 "p384.producer@example.com" clientAuth -algorithm EC -pkeyopt ec_paramgen_curve:P-384
leaf dual "dual.use@example.com" "serverAuth,clientAuth" -algorithm EC -pkeyopt ec_paramgen_curve:P-256
leaf k1 "secp256k1.producer@example.com" clientAuth -algorithm EC -pkeyopt ec_paramgen_curve:secp256k1
leaf pss "pss.producer@example.com" clientAuth -algorithm RSA-PSS -pkeyopt rsa_keygen_bits:2048
openssl genpkey -genparam -algorithm DSA -pkeyopt dsa_paramgen_bits:2048 -out "$work/dsa.param" 2>/dev/null
leaf dsa "dsa.producer@example.com" clientAuth -paramfile "$work/dsa.param"
openssl req -new -key "$work/rsa.key" -subj "/O=sfmtls producers/CN=md5chain.producer@example.com" -out "$work/md5leaf.csr"
ext "basicConstraints=critical,CA:false" "keyUsage=critical,digitalSignature" "extendedKeyUsage=clientAuth"
openssl x509 -req -in "$work/md5leaf.csr" -CA "$work/md5ca.crt" -CAkey "$work/md5ca.key" -set_serial 4 \
  -days $DAYS -sha256 -extfile "$work/ext.cnf" -out "$work/md5leaf.crt" 2>/dev/null
# A CA certificate on a curve Go does not parse, to sit beside a usable key entry.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:secp256k1 -nodes -sha256 -days $DAYS \
  -subj "/O=sfmtls producers/CN=Odd Curve CA" -keyout "$work/oddca.key" -out "$work/oddca.crt" 2>/dev/null
cat "$work/root.crt" > root-ca.pem

p12() { openssl pkcs12 -export -name "${NAME:-client}" -inkey "$work/$1.key" -in "$work/$1.crt" "${@:3}" -out "$2"; }

# --- OpenSSL 3 -----------------------------------------------------------------------------
p12 rsa openssl-default.p12 -certfile "$work/inter.crt" -passout pass:$SP
p12 rsa openssl-keypbe-none.p12 -certfile "$work/inter.crt" -keypbe NONE -passout pass:$SP
p12 rsa openssl-nopbe.p12 -certfile "$work/inter.crt" -keypbe NONE -certpbe NONE -passout pass:$SP
p12 rsa openssl-nomac.p12 -certfile "$work/inter.crt" -nomac -passout pass:$SP
p12 rsa openssl-macsha512.p12 -certfile "$work/inter.crt" -macalg sha512 -passout pass:$SP
p12 rsa openssl-iter1.p12 -certfile "$work/inter.crt" -iter 1 -passout pass:$SP
p12 rsa openssl-legacy.p12 -certfile "$work/inter.crt" -legacy -passout pass:$SP
p12 rsa openssl-descert.p12 -certfile "$work/inter.crt" -descert -keypbe PBE-SHA1-3DES -macalg sha1 -passout pass:$SP
openssl pkcs12 -export -nokeys -in "$work/inter.crt" -certfile "$work/root.crt" -passout pass:$SP -out openssl-nokeys.p12
openssl pkcs12 -export -name client -inkey "$work/rsa.key" -in "$work/md5leaf.crt" -certfile <(cat "$work/md5ca.crt" "$work/inter.crt") \
  -passout pass:$SP -out openssl-md5-intermediate.p12
p12 rsa openssl-odd-curve-ca.p12 -certfile <(cat "$work/inter.crt" "$work/oddca.crt") -passout pass:$SP
p12 dsa openssl-dsa.p12 -certfile "$work/inter.crt" -passout pass:$SP
p12 pss openssl-rsapss.p12 -certfile "$work/inter.crt" -passout pass:$SP
p12 k1 openssl-secp256k1.p12 -certfile "$work/inter.crt" -passout pass:$SP
p12 dual openssl-dual-use.p12 -certfile "$work/inter.crt" -passout pass:$SP
# Encrypted PKCS#8 PEM keys: PBES2 with every PRF, then scrypt and PBES1, which are refused.
for prf in hmacWithSHA1 hmacWithSHA224 hmacWithSHA256 hmacWithSHA384 hmacWithSHA512; do
  openssl pkcs8 -topk8 -in "$work/rsa.key" -v2 aes-128-cbc -v2prf $prf -passout pass:$KP -out "key-pbes2-$prf.pem"
done
openssl pkcs8 -topk8 -in "$work/rsa.key" -scrypt -passout pass:$KP -out key-scrypt.pem
openssl pkcs8 -topk8 -in "$work/rsa.key" -v1 PBE-MD5-DES -passout pass:$KP -out key-pbes1-md5-des.pem 2>/dev/null || \
  openssl pkcs8 -topk8 -in "$work/rsa.key" -v1 PBE-MD5-DES -passout pass:$KP -provider legacy -provider default -out key-pbes1-md5-des.pem
openssl pkcs8 -topk8 -in "$work/rsa.key" -v1 PBE-SHA1-3DES -passout pass:$KP -out key-pkcs12pbe-3des.pem
cp "$work/rsa-chain.crt" rsa-chain.pem

# --- Python cryptography: its PKCS#12 encryption builders ------------------------------------
python3 - "$work" <<'PY'
import sys
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.serialization import pkcs12, PrivateFormat, BestAvailableEncryption, NoEncryption
w = sys.argv[1]
key = serialization.load_pem_private_key(open(w + "/rsa.key", "rb").read(), None)
cert = x509.load_pem_x509_certificate(open(w + "/rsa.crt", "rb").read())
inter = x509.load_pem_x509_certificate(open(w + "/inter.crt", "rb").read())
def out(name, enc):
    open(name, "wb").write(pkcs12.serialize_key_and_certificates(b"python", key, cert, [inter], enc))
out("python-aes256-sha256.p12", PrivateFormat.PKCS12.encryption_builder().kdf_rounds(2048)
    .key_cert_algorithm(pkcs12.PBES.PBESv2SHA256AndAES256CBC).hmac_hash(hashes.SHA256()).build(b"changeit"))
out("python-3des-sha1.p12", PrivateFormat.PKCS12.encryption_builder().kdf_rounds(2048)
    .key_cert_algorithm(pkcs12.PBES.PBESv1SHA1And3KeyTripleDESCBC).hmac_hash(hashes.SHA1()).build(b"changeit"))
out("python-best.p12", BestAvailableEncryption(b"changeit"))
out("python-none.p12", NoEncryption())
PY

# --- node-forge (npm, installed here for generation only) ---------------------------------
(cd "$work" && npm init -y >/dev/null && npm install --silent --no-audit --no-fund node-forge@1 >/dev/null)
NODE_PATH="$work/node_modules" node - "$work" <<'JS'
const forge = require('node-forge'); const fs = require('fs'); const w = process.argv[2];
const key = forge.pki.privateKeyFromPem(fs.readFileSync(w + '/rsa.key', 'utf8'));
const certs = [forge.pki.certificateFromPem(fs.readFileSync(w + '/rsa.crt', 'utf8')),
               forge.pki.certificateFromPem(fs.readFileSync(w + '/inter.crt', 'utf8'))];
const out = (name, pw, opts) => fs.writeFileSync(name, Buffer.from(
  forge.asn1.toDer(forge.pkcs12.toPkcs12Asn1(key, certs, pw, Object.assign({friendlyName: 'forge'}, opts))).getBytes(), 'binary'));
out('forge-3des.p12', 'changeit', {algorithm: '3des'});
out('forge-aes256.p12', 'changeit', {algorithm: 'aes256'});
out('forge-nopassword.p12', null, {});
JS

# --- go-pkcs12's own encoders -------------------------------------------------------------
go run gopkcs12.go "$work"

# --- NSS pk12util: what Firefox exports (BER, one safe per bag) ---------------------------
mkdir "$work/nss"
certutil -N -d "sql:$work/nss" --empty-password
p12 rsa "$work/nss-in.p12" -certfile <(cat "$work/inter.crt" "$work/root.crt") -passout pass:$SP
NAME=second p12 second "$work/nss-in2.p12" -certfile "$work/inter.crt" -passout pass:$SP
pk12util -i "$work/nss-in.p12" -d "sql:$work/nss" -W $SP >/dev/null
pk12util -i "$work/nss-in2.p12" -d "sql:$work/nss" -W $SP >/dev/null
pk12util -o nss-export.p12 -n client -d "sql:$work/nss" -W $SP >/dev/null
pk12util -o nss-export-aes.p12 -n second -c AES-256-CBC -C AES-128-CBC -d "sql:$work/nss" -W $SP >/dev/null

# --- keytool and the JDK KeyStore API -----------------------------------------------------
kt() { keytool -noprompt "$@" >/dev/null 2>&1 || { echo "keytool $*" >&2; keytool -noprompt "$@"; }; }
openssl pkcs12 -export -name client -inkey "$work/rsa.key" -in "$work/rsa.crt" -certfile <(cat "$work/inter.crt" "$work/root.crt") \
  -passout pass:$SP -out "$work/chain3.p12"
for t in JKS JCEKS PKCS12; do
  lc=$(echo $t | tr A-Z a-z); [ $t = PKCS12 ] && lc=p12
  # Three-deep chain with a long, non-ASCII alias, a secret key and a trusted certificate.
  alias="clé-d'intégration-für-salesforce-mit-einem-sehr-langen-alias-namen-0123456789"
  kt -importkeystore -srckeystore "$work/chain3.p12" -srcstoretype PKCS12 -srcstorepass $SP -srcalias client \
    -destkeystore "keytool-chain3-secret.$lc" -deststoretype $t -deststorepass $SP -destkeypass $SP -destalias "$alias"
  [ $t = JKS ] || kt -genseckey -alias aes-secret -keyalg AES -keysize 256 -keystore "keytool-chain3-secret.$lc" -storetype $t -storepass $SP -keypass $SP
  kt -importcert -alias root -file "$work/root.crt" -keystore "keytool-chain3-secret.$lc" -storetype $t -storepass $SP
  [ $t = JKS ] || kt -genseckey -alias hmac-secret -keyalg HmacSHA256 -keysize 256 -keystore "keytool-chain3-secret.$lc" -storetype $t -storepass $SP -keypass $SP
  # DSA, EC P-384 and RSA 4096 key pairs made by keytool itself.
  kt -genkeypair -alias dsa -keyalg DSA -keysize 2048 -dname "CN=dsa.keytool@example.com" -validity $DAYS \
    -keystore "keytool-dsa.$lc" -storetype $t -storepass $SP -keypass $SP
  kt -genkeypair -alias p384 -keyalg EC -groupname secp384r1 -dname "CN=p384.keytool@example.com" -validity $DAYS \
    -keystore "keytool-ec-p384.$lc" -storetype $t -storepass $SP -keypass $SP
  kt -genkeypair -alias rsa4096 -keyalg RSA -keysize 4096 -dname "CN=rsa4096.keytool@example.com" -validity $DAYS \
    -keystore "keytool-rsa4096.$lc" -storetype $t -storepass $SP -keypass $SP
done
for t in JKS JCEKS; do
  lc=$(echo $t | tr A-Z a-z)
  kt -genkeypair -alias keypass -keyalg EC -groupname secp256r1 -dname "CN=keypass.keytool@example.com" -validity $DAYS \
    -keystore "keytool-keypass.$lc" -storetype $t -storepass $SP -keypass $KP
done
# JKS alone takes passwords beyond ASCII (JCEKS refuses them; PKCS#12 is tested above).
kt -genkeypair -alias unicode -keyalg EC -groupname secp256r1 -dname "CN=unicode.keytool@example.com" -validity $DAYS \
  -keystore keytool-unicode.jks -storetype JKS -storepass "$UP" -keypass "$UP"
# A trusted certificate on a curve Go cannot parse, beside a usable key entry.
cp keytool-ec-p384.jks keytool-odd-curve-ca.jks
kt -importcert -alias oddca -file "$work/oddca.crt" -keystore keytool-odd-curve-ca.jks -storetype JKS -storepass $SP
# keytool refuses a PKCS#12 key password unlike the store's; the KeyStore API, which
# older JDKs and Java applications use, writes one.
java JavaKeyPass.java "$work/chain3.p12" $SP $KP java-api-keypass.p12

# --- Bouncy Castle BKS: no bcprov here, so a header built from the documented layout --------
# version 2, salt length 20, 20 salt bytes, iteration count 1024, then an end-of-entries tag.
{ printf '\x00\x00\x00\x02\x00\x00\x00\x14'; head -c 20 /dev/zero | tr '\0' '\1'; printf '\x00\x00\x04\x00\x00'; head -c 20 /dev/zero; } > bks-header.bks

# --- Fuzz seeds for the paths these files opened (BER, serialized secret keys, no MAC) ----
seed() { # target name file [offset-of-magic-hex]
  mkdir -p "../fuzz/$1"
  python3 - "../fuzz/$1/producers-$2" "$3" "${4:-}" <<'PY'
import sys
out, path, magic = sys.argv[1], sys.argv[2], sys.argv[3]
data = open(path, "rb").read()
if magic:
    data = data[data.index(bytes.fromhex(magic)):]
esc = "".join("\\x%02x" % b for b in data)
open(out, "w").write('go test fuzz v1\n[]byte("%s")\n' % esc)
PY
}
rm -f ../fuzz/*/producers-*
for f in nss-export.p12 nss-export-aes.p12 keytool-chain3-secret.p12 openssl-nomac.p12 openssl-nopbe.p12 \
         forge-nopassword.p12 python-none.p12 java-api-keypass.p12 openssl-nokeys.p12 openssl-odd-curve-ca.p12; do
  seed FuzzPKCS12 "$f" "$f"
done
for f in nss-export.p12 nss-export-aes.p12; do seed FuzzBER "$f" "$f"; done
seed FuzzJavaStore keytool-chain3-secret.jceks keytool-chain3-secret.jceks
seed FuzzJavaSerial keytool-chain3-secret.jceks keytool-chain3-secret.jceks aced0005
seed FuzzLoad bks-header.bks bks-header.bks

# --- Java 8's layout, RC2, odd curves and refused PEM keys (issue 22) ----------------------
./legacy.sh
