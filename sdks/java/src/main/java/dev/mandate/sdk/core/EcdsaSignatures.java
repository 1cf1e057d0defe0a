package dev.mandate.sdk.core;

import java.math.BigInteger;
import java.security.SignatureException;
import java.security.interfaces.ECKey;

/**
 * The JDK's ECDSA signatures are DER {@code SEQUENCE { INTEGER r, INTEGER s }}; JWS wants the
 * 64-byte {@code r || s} of RFC 7518 §3.4. Internal.
 */
final class EcdsaSignatures {
  private EcdsaSignatures() {}

  /**
   * {@code r || s} of a DER signature made with a P-256 key, with s in low-S form (s <= n/2):
   * (r, n - s) verifies as well, Mandate's verifiers accept only the low one, and the JDK's
   * signer gives either.
   */
  static byte[] toJose(byte[] der, ECKey key) throws SignatureException {
    Reader in = new Reader(der);
    in.expect(0x30);
    int length = in.length();
    int end = in.pos + length;
    BigInteger r = in.integer();
    BigInteger s = in.integer();
    if (in.pos != end || end != der.length) throw new SignatureException("not a DER ECDSA signature");
    BigInteger n = key.getParams().getOrder();
    if (s.compareTo(n.shiftRight(1)) > 0) s = n.subtract(s);
    byte[] out = new byte[64];
    copyRight(r, out, 0);
    copyRight(s, out, 32);
    return out;
  }

  /** {@code value} big-endian, right-aligned in 32 bytes at {@code offset}. */
  private static void copyRight(BigInteger value, byte[] out, int offset) throws SignatureException {
    byte[] bytes = value.toByteArray();
    int start = bytes.length > 32 ? bytes.length - 32 : 0;
    for (int i = 0; i < start; i++) {
      if (bytes[i] != 0) throw new SignatureException("ECDSA value longer than 32 bytes");
    }
    System.arraycopy(bytes, start, out, offset + 32 - (bytes.length - start), bytes.length - start);
  }

  /** Just enough DER: tags, short and long lengths, positive INTEGERs. */
  private static final class Reader {
    private final byte[] der;
    private int pos;

    Reader(byte[] der) {
      this.der = der;
    }

    void expect(int tag) throws SignatureException {
      if (pos >= der.length || (der[pos++] & 0xff) != tag) throw new SignatureException("not a DER ECDSA signature");
    }

    int length() throws SignatureException {
      if (pos >= der.length) throw new SignatureException("truncated DER");
      int first = der[pos++] & 0xff;
      if (first < 0x80) return first;
      int count = first & 0x7f;
      if (count == 0 || count > 2) throw new SignatureException("unsupported DER length");
      int length = 0;
      for (int i = 0; i < count; i++) {
        if (pos >= der.length) throw new SignatureException("truncated DER");
        length = (length << 8) | (der[pos++] & 0xff);
      }
      return length;
    }

    BigInteger integer() throws SignatureException {
      expect(0x02);
      int length = length();
      if (length == 0 || pos + length > der.length) throw new SignatureException("bad DER INTEGER");
      byte[] bytes = new byte[length];
      System.arraycopy(der, pos, bytes, 0, length);
      pos += length;
      return new BigInteger(1, bytes);
    }
  }
}
