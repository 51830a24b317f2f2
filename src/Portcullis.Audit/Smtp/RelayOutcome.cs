namespace Portcullis.Audit.Smtp;

/// <summary>The result of one relay vector, worst first.</summary>
public enum RelayVerdict
{
    /// <summary>The canary received the vector's token: the server relayed.</summary>
    Proven,
    /// <summary>2xx to the foreign recipient (and to DATA when a canary is used) but no delivery seen (yet).</summary>
    Accepted,
    /// <summary>A 4xx that is not a relay refusal, an unexpected code, or no answer: not tested.</summary>
    Inconclusive,
    /// <summary>5xx at MAIL, RCPT or DATA, or a relay-refusing 4xx.</summary>
    Refused,
}

/// <summary>One vector's outcome with the transcript that shows it.</summary>
public sealed record RelayOutcome(RelayVector Vector, RelayVerdict Verdict, string Summary, string Evidence, bool OverTls)
{
    /// <summary>True when DATA was sent and the server answered 250 after the end of data (a delivery can be expected).</summary>
    public bool MessageAccepted { get; init; }
}
