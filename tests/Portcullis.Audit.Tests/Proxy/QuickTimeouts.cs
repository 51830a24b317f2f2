using Portcullis.Audit.Proxy;

namespace Portcullis.Audit.Tests.Proxy;

/// <summary>Short probe timeouts for fakes and emulations on loopback, which answer at once or never.</summary>
internal static class QuickTimeouts
{
    public static ProbeTimeouts With(double connect = 2, double reply = 2, double proof = 1, int promptMs = 500) => new()
    {
        Connect = TimeSpan.FromSeconds(connect),
        Reply = TimeSpan.FromSeconds(reply),
        Proof = TimeSpan.FromSeconds(proof),
        Prompt = TimeSpan.FromMilliseconds(promptMs),
    };
}
