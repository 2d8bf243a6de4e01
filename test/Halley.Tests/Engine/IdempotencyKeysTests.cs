using Halley.Engine;
using Halley.Tests.Infrastructure;

namespace Halley.Tests.Engine;

/// <summary>The in-memory engine's memory of idempotency keys: a window long, then let go of; a failed publish's key released.</summary>
public class IdempotencyKeysTests
{
    private static readonly TimeSpan Window = TimeSpan.FromMinutes(5);

    [Fact]
    public void AKey_IsADuplicateWithinItsWindow_WithTheFirstPosition_AndForgottenAfterIt()
    {
        var time = new ManualTimeProvider();
        var keys = new IdempotencyKeys(Window, time);
        var position = new StreamPosition("e", 7);

        Assert.True(keys.TryClaim("k", out _));
        keys.Complete("k", position);
        time.Advance(Window - TimeSpan.FromSeconds(1));
        Assert.False(keys.TryClaim("k", out var earlier));
        Assert.Equal(position, earlier);

        time.Advance(TimeSpan.FromSeconds(1));
        keys.Expire();
        Assert.Equal(0, keys.Count);
        Assert.True(keys.TryClaim("k", out _));
    }

    [Fact]
    public void AReleasedKey_CanBeClaimedAgain_AndItsOldQueueEntryDoesNotForgetTheNewClaim()
    {
        var time = new ManualTimeProvider();
        var keys = new IdempotencyKeys(Window, time);
        Assert.True(keys.TryClaim("k", out _));
        keys.Release("k");
        time.Advance(TimeSpan.FromMinutes(1));
        Assert.True(keys.TryClaim("k", out _));

        // The first claim's window ends: the second claim, a minute younger, stays.
        time.Advance(Window - TimeSpan.FromMinutes(1));
        keys.Expire();
        Assert.False(keys.TryClaim("k", out _));
    }

    [Fact]
    public async Task TheInMemoryEngine_LetsGoOfKeysOnItsSweep()
    {
        var time = new ManualTimeProvider();
        var engine = new InMemoryMessageEngine(Microsoft.Extensions.Options.Options.Create(new HalleyOptions()), time);
        engine.Start(new NoListener());
        var message = EncodedMessage.FromFrame("/a", Halley.Protocol.BayeuxCodec.EncodeEventFrame("/a", "1"u8, default));
        message.IdempotencyKey = "k";
        await engine.PublishAsync(message, default);
        Assert.Equal(1, engine.IdempotencyKeyCount);

        time.Advance(new HalleyOptions().Api.IdempotencyWindow);
        engine.Sweep();
        Assert.Equal(0, engine.IdempotencyKeyCount);
    }

    private sealed class NoListener : IEngineListener
    {
        public void OnMessage(EncodedMessage message)
        {
        }
    }
}
