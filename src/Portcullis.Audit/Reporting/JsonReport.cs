using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Portcullis.Audit.Reporting;

/// <summary>
/// The stable JSON form of audit reports (docs/audit-json.md). Property names are camelCase, enums are the
/// lower-case strings of the schema, and every documented property is always present (null when empty) so
/// that consumers can rely on the shape.
/// </summary>
internal static class JsonReport
{
    internal static readonly JsonSerializerOptions Options = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        WriteIndented = true,
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
        // Transcripts are full of <addresses>: keep them readable rather than \u003C-escaped.
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    public static void Write(TextWriter output, IReadOnlyList<AuditReport> reports)
    {
        var json = reports.Count == 1
            ? JsonSerializer.Serialize(reports[0], Options)
            : JsonSerializer.Serialize(reports, Options);
        output.WriteLine(json);
        output.Flush();
    }
}
