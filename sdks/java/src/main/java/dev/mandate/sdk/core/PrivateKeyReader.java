package dev.mandate.sdk.core;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import dev.mandate.sdk.errors.ConfigurationException;
import dev.mandate.sdk.verify.Jwk;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.security.AlgorithmParameters;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.interfaces.ECPrivateKey;
import java.security.interfaces.ECPublicKey;
import java.security.interfaces.EdECPrivateKey;
import java.security.interfaces.RSAPrivateCrtKey;
import java.security.interfaces.RSAPrivateKey;
import java.security.spec.ECFieldFp;
import java.security.spec.ECGenParameterSpec;
import java.security.spec.ECParameterSpec;
import java.security.spec.ECPoint;
import java.security.spec.ECPrivateKeySpec;
import java.security.spec.ECPublicKeySpec;
import java.security.spec.EdECPrivateKeySpec;
import java.security.spec.KeySpec;
import java.security.spec.NamedParameterSpec;
import java.security.spec.PKCS8EncodedKeySpec;
import java.security.spec.RSAPrivateCrtKeySpec;
import java.security.spec.RSAPrivateKeySpec;
import java.util.Arrays;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.crypto.KeyAgreement;

/**
 * Reads an agent's private key from PKCS#8 PEM or a private JWK (JSON text or a map), and works
 * out its public half, which the kid thumbprint and the checks need. JDK crypto only. Every
 * failure is a {@link ConfigurationException} that names the problem and never quotes the key.
 * Internal.
 */
final class PrivateKeyReader {
  /**
   * A private key, the members of its public JWK that RFC 7638 hashes, and the JWK's own
   * {@code alg} and {@code kid} (null for PEM).
   */
  record Parsed(PrivateKey key, Map<String, String> publicJwk, String jwkAlg, String jwkKid) {}

  static final int MIN_RSA_BITS = 2048;
  private static final Pattern PEM = Pattern.compile("-----BEGIN ([A-Z0-9 ]+)-----(.*?)-----END \\1-----", Pattern.DOTALL);
  private static final byte[] PROBE = "mandate: does this key pair belong together?".getBytes(StandardCharsets.UTF_8);
  private static final ECParameterSpec P256 = p256();

  private PrivateKeyReader() {}

  static ConfigurationException keyError(String problem) {
    return new ConfigurationException("the private key cannot be used: " + problem);
  }

  /** {@code source} is PEM or JWK text, or a JWK as a map. */
  static Parsed read(Object source) {
    if (source instanceof Map<?, ?> map) return fromJwk(map);
    if (!(source instanceof String text)) throw keyError("give PEM or JWK text, or a JWK as a map");
    String trimmed = text.strip();
    if (trimmed.startsWith("-----BEGIN")) return fromPem(trimmed);
    if (trimmed.startsWith("{")) {
      Map<String, Object> jwk;
      try {
        jwk = Json.mapper().readValue(trimmed, new TypeReference<Map<String, Object>>() {});
      } catch (JsonProcessingException e) {
        // Not chained: Jackson's message quotes the text it choked on.
        throw keyError("it starts like a JWK but is not valid JSON");
      }
      return fromJwk(jwk);
    }
    if (trimmed.isEmpty()) throw keyError("it is empty");
    throw keyError("it is neither PEM (-----BEGIN PRIVATE KEY-----) nor a JWK (a JSON object)");
  }

  /** A new EC P-256 key pair, its public JWK taken from the public key itself. */
  static Parsed generateP256() {
    KeyPair pair;
    try {
      KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
      generator.initialize(new ECGenParameterSpec("secp256r1"));
      pair = generator.generateKeyPair();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("the JDK cannot make P-256 keys", e);
    }
    ECPoint point = ((ECPublicKey) pair.getPublic()).getW();
    Map<String, String> jwk = new LinkedHashMap<>();
    jwk.put("crv", "P-256");
    jwk.put("kty", "EC");
    jwk.put("x", b64(fixed(point.getAffineX())));
    jwk.put("y", b64(fixed(point.getAffineY())));
    return new Parsed(pair.getPrivate(), jwk, null, null);
  }

  // ---- PEM ----

  private static Parsed fromPem(String text) {
    // Environment variables often carry a PEM on one line, its newlines written as \n.
    if (!text.contains("\n")) text = text.replace("\\n", "\n");
    Matcher block = PEM.matcher(text);
    if (!block.find()) throw keyError("the PEM block is malformed");
    String type = block.group(1);
    switch (type) {
      case "PRIVATE KEY" -> {}
      case "ENCRYPTED PRIVATE KEY" -> throw keyError("the PEM key is encrypted; decrypt it first (openssl pkcs8 -in key.pem -out plain.pem)");
      case "EC PRIVATE KEY", "RSA PRIVATE KEY" ->
          throw keyError("PEM blocks of type " + type + " are not supported; convert to PKCS#8 (openssl pkcs8 -topk8 -nocrypt -in key.pem)");
      case "PUBLIC KEY", "RSA PUBLIC KEY", "CERTIFICATE" ->
          throw keyError("the PEM block is a " + type.toLowerCase(Locale.ROOT) + ", not a private key");
      default -> throw keyError("PEM blocks of type " + type + " are not supported; use PKCS#8 (BEGIN PRIVATE KEY)");
    }
    byte[] der;
    try {
      der = Base64.getMimeDecoder().decode(block.group(2).strip());
    } catch (IllegalArgumentException e) {
      throw keyError("the PEM block is not base64");
    }
    PrivateKey key = pkcs8(der);
    return new Parsed(key, publicOf(key), null, null);
  }

  /** PKCS#8 names its algorithm; the JDK's key factories each take theirs and refuse others. */
  private static PrivateKey pkcs8(byte[] der) {
    for (String algorithm : List.of("EC", "Ed25519", "RSA")) {
      try {
        return KeyFactory.getInstance(algorithm).generatePrivate(new PKCS8EncodedKeySpec(der));
      } catch (GeneralSecurityException e) {
        // not this kind: try the next
      }
    }
    throw keyError("the PKCS#8 PEM is not an EC, Ed25519 or RSA private key, or does not parse");
  }

  /** The public JWK of a key read from PEM, derived from the private key itself. */
  private static Map<String, String> publicOf(PrivateKey key) {
    if (key instanceof ECPrivateKey ec) return ecPublic(ec);
    if (key instanceof EdECPrivateKey ed) return ed25519Public(ed);
    if (key instanceof RSAPrivateCrtKey rsa) {
      Map<String, String> jwk = rsaJwk(rsa.getModulus(), rsa.getPublicExponent());
      requirePair(key, jwk);
      return jwk;
    }
    if (key instanceof RSAPrivateKey) throw keyError("the RSA key lacks its public exponent (use a full PKCS#8 RSA key)");
    throw keyError(key.getAlgorithm() + " keys are not supported: use EC P-256, Ed25519 or RSA");
  }

  // ---- JWK ----

  private static Parsed fromJwk(Map<?, ?> jwk) {
    if (!jwk.containsKey("d")) throw keyError("the JWK has no private member d: it is a public key");
    String kty = text(jwk, "kty");
    Map<String, String> publicJwk;
    PrivateKey key;
    if ("EC".equals(kty)) {
      if (!"P-256".equals(text(jwk, "crv"))) throw keyError("EC keys must be on P-256, not " + text(jwk, "crv"));
      key = generate("EC", new ECPrivateKeySpec(new BigInteger(1, bytes(jwk, "d", 32)), P256));
      publicJwk = ecPublic((ECPrivateKey) key);
      requireSame(jwk, publicJwk, "x");
      requireSame(jwk, publicJwk, "y");
    } else if ("OKP".equals(kty)) {
      if (!"Ed25519".equals(text(jwk, "crv"))) throw keyError("OKP keys must be Ed25519, not " + text(jwk, "crv"));
      key = generate("Ed25519", new EdECPrivateKeySpec(NamedParameterSpec.ED25519, bytes(jwk, "d", 32)));
      publicJwk = ed25519Public((EdECPrivateKey) key);
      requireSame(jwk, publicJwk, "x");
    } else if ("RSA".equals(kty)) {
      BigInteger n = unsigned(jwk, "n");
      BigInteger e = unsigned(jwk, "e");
      BigInteger d = unsigned(jwk, "d");
      boolean crt = List.of("p", "q", "dp", "dq", "qi").stream().allMatch(jwk::containsKey);
      KeySpec spec =
          crt
              ? new RSAPrivateCrtKeySpec(n, e, d, unsigned(jwk, "p"), unsigned(jwk, "q"), unsigned(jwk, "dp"), unsigned(jwk, "dq"), unsigned(jwk, "qi"))
              : new RSAPrivateKeySpec(n, d);
      key = generate("RSA", spec);
      publicJwk = rsaJwk(n, e);
      requirePair(key, publicJwk);
    } else {
      throw keyError("JWKs of kty " + kty + " are not supported: use EC, OKP or RSA");
    }
    return new Parsed(key, publicJwk, text(jwk, "alg"), text(jwk, "kid"));
  }

  private static PrivateKey generate(String algorithm, KeySpec spec) {
    try {
      return KeyFactory.getInstance(algorithm).generatePrivate(spec);
    } catch (GeneralSecurityException e) {
      throw keyError("the JWK's members do not form a valid " + algorithm + " key");
    }
  }

  private static String text(Map<?, ?> jwk, String member) {
    return jwk.get(member) instanceof String value ? value : null;
  }

  private static byte[] bytes(Map<?, ?> jwk, String member, int size) {
    String value = text(jwk, member);
    if (value == null || value.isEmpty()) throw keyError("the JWK has no " + member + " member");
    byte[] raw;
    try {
      raw = Base64.getUrlDecoder().decode(value);
    } catch (IllegalArgumentException e) {
      throw keyError("the JWK's " + member + " is not base64url");
    }
    if (size != 0 && raw.length != size) {
      throw keyError("the JWK's " + member + " must be " + size + " bytes, not " + raw.length);
    }
    return raw;
  }

  private static BigInteger unsigned(Map<?, ?> jwk, String member) {
    return new BigInteger(1, bytes(jwk, member, 0));
  }

  /** A public member the JWK gives must be the one its d implies. */
  private static void requireSame(Map<?, ?> jwk, Map<String, String> derived, String member) {
    if (jwk.containsKey(member) && !Arrays.equals(bytes(jwk, member, 0), b64decode(derived.get(member)))) {
      throw keyError("the JWK's " + member + " does not belong to its d");
    }
  }

  // ---- public halves ----

  /**
   * The JDK has no call for the public point of an EC private key: ECDH of d with the base point
   * G gives the x of d·G, the curve equation gives y up to its sign, and the candidate that
   * verifies a signature of d is the one.
   */
  private static Map<String, String> ecPublic(ECPrivateKey key) {
    ECParameterSpec spec = key.getParams();
    if (!spec.getOrder().equals(P256.getOrder()) || !spec.getCurve().equals(P256.getCurve())) {
      throw keyError("EC keys must be on P-256");
    }
    BigInteger x;
    try {
      KeyAgreement agreement = KeyAgreement.getInstance("ECDH");
      agreement.init(key);
      agreement.doPhase(KeyFactory.getInstance("EC").generatePublic(new ECPublicKeySpec(spec.getGenerator(), spec)), true);
      x = new BigInteger(1, agreement.generateSecret());
    } catch (GeneralSecurityException e) {
      throw keyError("its d is not a valid P-256 private scalar");
    }
    BigInteger p = ((ECFieldFp) spec.getCurve().getField()).getP();
    BigInteger ySquared = x.pow(3).add(spec.getCurve().getA().multiply(x)).add(spec.getCurve().getB()).mod(p);
    BigInteger y = ySquared.modPow(p.add(BigInteger.ONE).shiftRight(2), p); // p = 3 mod 4
    for (BigInteger candidate : List.of(y, p.subtract(y))) {
      Map<String, String> jwk = new LinkedHashMap<>();
      jwk.put("crv", "P-256");
      jwk.put("kty", "EC");
      jwk.put("x", b64(fixed(x)));
      jwk.put("y", b64(fixed(candidate)));
      if (pairs(key, jwk)) return jwk;
    }
    throw keyError("its public point cannot be derived");
  }

  /**
   * Nor for an Ed25519 public key: a key pair generator fed the private key as its only
   * randomness makes the pair again (RFC 8032 §5.1.5), and a signature check proves it did.
   */
  private static Map<String, String> ed25519Public(EdECPrivateKey key) {
    byte[] seed = key.getBytes().orElseThrow(() -> keyError("the Ed25519 key does not expose its bytes"));
    PublicKey pub;
    try {
      KeyPairGenerator generator = KeyPairGenerator.getInstance("Ed25519");
      generator.initialize(NamedParameterSpec.ED25519, new SeedRandom(seed));
      pub = generator.generateKeyPair().getPublic();
    } catch (GeneralSecurityException | IllegalStateException e) {
      throw keyError("its Ed25519 public key cannot be derived");
    }
    byte[] spki = pub.getEncoded(); // SubjectPublicKeyInfo; the raw key is its last 32 bytes
    Map<String, String> jwk = new LinkedHashMap<>();
    jwk.put("crv", "Ed25519");
    jwk.put("kty", "OKP");
    jwk.put("x", b64(Arrays.copyOfRange(spki, spki.length - 32, spki.length)));
    if (!pairs(key, jwk)) throw keyError("its Ed25519 public key cannot be derived");
    return jwk;
  }

  private static Map<String, String> rsaJwk(BigInteger n, BigInteger e) {
    if (n.bitLength() < MIN_RSA_BITS) {
      throw keyError("RSA keys need at least " + MIN_RSA_BITS + " bits; this one has " + n.bitLength());
    }
    Map<String, String> jwk = new LinkedHashMap<>();
    jwk.put("e", b64(unsignedBytes(e)));
    jwk.put("kty", "RSA");
    jwk.put("n", b64(unsignedBytes(n)));
    return jwk;
  }

  /** RFC 7518 §6.3.1: the shortest big-endian bytes, without BigInteger's sign byte. */
  private static byte[] unsignedBytes(BigInteger value) {
    byte[] bytes = value.toByteArray();
    return bytes.length > 1 && bytes[0] == 0 ? Arrays.copyOfRange(bytes, 1, bytes.length) : bytes;
  }

  private static void requirePair(PrivateKey key, Map<String, String> publicJwk) {
    if (!pairs(key, publicJwk)) throw keyError("its public members do not belong to its private part");
  }

  /** Whether {@code publicJwk} verifies a signature made with {@code key}. */
  private static boolean pairs(PrivateKey key, Map<String, String> publicJwk) {
    String algorithm =
        switch (publicJwk.get("kty")) {
          case "EC" -> "SHA256withECDSA";
          case "OKP" -> "Ed25519";
          default -> "SHA256withRSA";
        };
    try {
      PublicKey pub = Jwk.fromJson(Json.toTree(publicJwk)).key();
      Signature signer = Signature.getInstance(algorithm);
      signer.initSign(key);
      signer.update(PROBE);
      byte[] signature = signer.sign();
      Signature verifier = Signature.getInstance(algorithm);
      verifier.initVerify(pub);
      verifier.update(PROBE);
      return verifier.verify(signature);
    } catch (GeneralSecurityException e) {
      return false;
    }
  }

  /** A P-256 coordinate as exactly 32 big-endian bytes. */
  private static byte[] fixed(BigInteger value) {
    byte[] bytes = value.toByteArray();
    byte[] out = new byte[32];
    int length = Math.min(bytes.length, 32);
    System.arraycopy(bytes, bytes.length - length, out, 32 - length, length);
    return out;
  }

  private static String b64(byte[] bytes) {
    return Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
  }

  private static byte[] b64decode(String text) {
    return Base64.getUrlDecoder().decode(text);
  }

  private static ECParameterSpec p256() {
    try {
      AlgorithmParameters parameters = AlgorithmParameters.getInstance("EC");
      parameters.init(new ECGenParameterSpec("secp256r1"));
      return parameters.getParameterSpec(ECParameterSpec.class);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("the JDK lacks P-256", e);
    }
  }

  /** Randomness that is the given seed: only for re-deriving a key pair from its private key. */
  private static final class SeedRandom extends SecureRandom {
    private static final long serialVersionUID = 1L;
    private final byte[] seed;

    SeedRandom(byte[] seed) {
      this.seed = seed.clone();
    }

    @Override
    public void nextBytes(byte[] bytes) {
      if (bytes.length != seed.length) throw new IllegalStateException("unexpected request for " + bytes.length + " random bytes");
      System.arraycopy(seed, 0, bytes, 0, seed.length);
    }
  }
}
