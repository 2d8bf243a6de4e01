using System.Security.Cryptography;
using System.Text;
using Microsoft.IdentityModel.Tokens;

namespace Halley.Security.Auth;

/// <summary>Turns the configured keys (<c>Halley:Auth:Jwt:Keys</c>) into keys the token handler verifies with.</summary>
internal static class SigningKeys
{
    /// <summary>Fewest bytes of an HS256 secret: RFC 7518 §3.2 wants a key at least as long as the hash.</summary>
    public const int MinSecretBytes = 32;

    /// <summary>The key <paramref name="key"/> describes; throws <see cref="ArgumentException"/> with why when it cannot be one.</summary>
    public static SecurityKey Create(JwtKey key)
    {
        SecurityKey created;
        if (!string.IsNullOrEmpty(key.Secret) == !string.IsNullOrEmpty(key.PublicKey))
        {
            throw new ArgumentException("set either Secret or PublicKey");
        }
        if (!string.IsNullOrEmpty(key.Secret))
        {
            var bytes = Encoding.UTF8.GetBytes(key.Secret);
            if (bytes.Length < MinSecretBytes)
            {
                throw new ArgumentException($"Secret must be at least {MinSecretBytes} bytes");
            }
            created = new SymmetricSecurityKey(bytes);
        }
        else
        {
            created = FromPem(key.PublicKey!);
        }
        created.KeyId = key.Id;
        return created;
    }

    /// <summary>Whether <paramref name="key"/> can be created; <paramref name="error"/> says why not.</summary>
    public static bool IsValid(JwtKey key, out string error)
    {
        try
        {
            Create(key);
            error = "";
            return true;
        }
        catch (ArgumentException e)
        {
            error = e.Message;
            return false;
        }
    }

    private static SecurityKey FromPem(string pem)
    {
        // The PEM label does not say which algorithm a SubjectPublicKeyInfo holds: try RSA, then EC.
        var rsa = RSA.Create();
        try
        {
            rsa.ImportFromPem(pem);
            return new RsaSecurityKey(rsa);
        }
        catch (Exception e) when (e is ArgumentException or CryptographicException)
        {
            rsa.Dispose();
        }
        var ec = ECDsa.Create();
        try
        {
            ec.ImportFromPem(pem);
            return new ECDsaSecurityKey(ec);
        }
        catch (Exception e) when (e is ArgumentException or CryptographicException)
        {
            ec.Dispose();
            throw new ArgumentException("PublicKey is not an RSA or EC public key in PEM", e);
        }
    }
}
