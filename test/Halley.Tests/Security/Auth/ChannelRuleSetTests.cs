using System.Security.Claims;
using Halley.Security;
using Halley.Security.Auth;

namespace Halley.Tests.Security.Auth;

public class ChannelRuleSetTests
{
    private static ClaimsPrincipal User(string sub, params (string Type, string Value)[] claims) =>
        new(new ClaimsIdentity([new Claim("sub", sub), .. claims.Select(c => new Claim(c.Type, c.Value))], "test", "sub", "role"));

    private static readonly ChannelRuleSet Rules = new(
    [
        new ChannelRule { Pattern = "/public/**" },
        new ChannelRule { Pattern = "/ticker/**", Publish = "nobody" },
        new ChannelRule { Pattern = "/user/{sub}/**", Subscribe = "authenticated", Publish = "authenticated" },
        new ChannelRule { Pattern = "/admin/*", Subscribe = "role:admin", Publish = "claim:scope=admin:write" },
        new ChannelRule { Pattern = "/vip/**", Subscribe = "claim:vip" },
        new ChannelRule { Pattern = "/private/*", Subscribe = "token" },
        new ChannelRule { Pattern = "/**", Subscribe = "authenticated", Publish = "authenticated" },
    ]);

    [Theory]
    [InlineData("/public/news", null)]
    [InlineData("/public/**", null)]
    [InlineData("/ticker/eur", null)]
    [InlineData("/chat", "authentication_required")]
    [InlineData("/user/alice/inbox", "authentication_required")]
    public void Anonymous(string channel, string? expected) =>
        Assert.Equal(expected, Rules.Check(ChannelOperation.Subscribe, channel, null, out _));

    [Theory]
    [InlineData("/user/alice/inbox", null)]
    [InlineData("/user/alice/**", null)]
    [InlineData("/user/bob/inbox", "not_your_channel")]
    [InlineData("/user/*/inbox", "not_your_channel")]
    [InlineData("/user/**", "not_your_channel")]
    // A wildcard that reaches every user's channels is refused, as the concrete ones would be.
    [InlineData("/**", "not_your_channel")]
    [InlineData("/admin/panel", "role_required")]
    [InlineData("/vip/lounge", "claim_required")]
    [InlineData("/chat", null)]
    public void Alice_Subscribes(string channel, string? expected) =>
        Assert.Equal(expected, Rules.Check(ChannelOperation.Subscribe, channel, User("alice"), out _));

    [Fact]
    public void RolesAndClaims_LetIn()
    {
        var admin = User("root", ("role", "admin"), ("scope", "admin:write"), ("vip", "yes"));
        Assert.Null(Rules.Check(ChannelOperation.Subscribe, "/admin/panel", admin, out _));
        Assert.Null(Rules.Check(ChannelOperation.Publish, "/admin/panel", admin, out _));
        Assert.Null(Rules.Check(ChannelOperation.Subscribe, "/vip/lounge", admin, out _));
        Assert.Equal("claim_required", Rules.Check(ChannelOperation.Publish, "/admin/panel", User("x", ("role", "admin")), out _));
    }

    [Fact]
    public void Nobody_IsServerOnly_AndTokenRulesAskForAToken()
    {
        Assert.Equal("server_only", Rules.Check(ChannelOperation.Publish, "/ticker/eur", User("alice"), out _));
        Assert.Null(Rules.Check(ChannelOperation.Subscribe, "/private/room", null, out var needsToken));
        Assert.True(needsToken);
        Assert.Null(Rules.Check(ChannelOperation.Subscribe, "/chat", User("alice"), out needsToken));
        Assert.False(needsToken);
    }

    [Fact]
    public void NoRules_LeaveEverythingOpen()
    {
        var none = new ChannelRuleSet([]);
        Assert.True(none.IsEmpty);
        Assert.Null(none.Check(ChannelOperation.Publish, "/anything", null, out _));
    }

    [Theory]
    [InlineData("/user/{sub}/**", "authenticated", "anonymous", true)]
    [InlineData("/user/{subject}/**", "authenticated", "anonymous", false)]
    [InlineData("not a channel", "anonymous", "anonymous", false)]
    [InlineData("/a", "sometimes", "anonymous", false)]
    [InlineData("/a", "claim:=x", "anonymous", false)]
    [InlineData("/a", "token", "token", false)]
    public void Validation(string pattern, string subscribe, string publish, bool valid) =>
        Assert.Equal(valid, ChannelRuleSet.IsValid(new ChannelRule { Pattern = pattern, Subscribe = subscribe, Publish = publish }, out _));
}
