using System.Net;

namespace Portcullis.Audit.Scan;

/// <summary>A discovery method (TCP connect or SYN) as the scan runner, the progress bar and --resume see it.</summary>
public interface IPortDiscovery
{
    long Total { get; }
    /// <summary>Endpoints answered or given up on (filtered), including those below the start index.</summary>
    long Done { get; }
    long Open { get; }
    long Filtered { get; }
    /// <summary>Every endpoint numbered below this has been tried and its open port reported (the resume checkpoint).</summary>
    long Watermark { get; }
    /// <summary>Runs to the end (or cancellation); <c>onOpen</c> is called for each open port before the watermark passes it.</summary>
    Task RunAsync(Func<IPEndPoint, long, ValueTask> onOpen, CancellationToken ct);
}
