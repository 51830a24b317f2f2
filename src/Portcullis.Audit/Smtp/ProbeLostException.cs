namespace Portcullis.Audit.Smtp;

/// <summary>Why a probe connection stopped being usable.</summary>
public enum ProbeLoss
{
    /// <summary>The server closed the connection (or reset it).</summary>
    Closed,
    /// <summary>No (complete) reply within the step timeout.</summary>
    Timeout,
    /// <summary>The server sent something that is not an SMTP reply, or more than the read cap.</summary>
    Garbage,
    /// <summary>Connected in clear, but no greeting within the step timeout: the port may speak TLS first.</summary>
    NoGreeting,
}

/// <summary>The connection can no longer be used; the caller reconnects once (issue 4) or records "no answer".</summary>
public sealed class ProbeLostException(ProbeLoss loss, string message, Exception? inner = null) : Exception(message, inner)
{
    public ProbeLoss Loss { get; } = loss;
}
