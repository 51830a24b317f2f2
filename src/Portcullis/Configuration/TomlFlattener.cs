using System.Globalization;
using Tomlyn;
using Tomlyn.Model;

namespace Portcullis.Configuration;

/// <summary>
/// Turns a TOML document into flat configuration keys ("listeners:mx" = "127.0.0.1:2525"), the shape
/// Microsoft.Extensions.Configuration uses, so the file and PORTCULLIS__SECTION__KEY variables merge.
/// Arrays become comma-separated strings (the same form an environment variable takes).
/// </summary>
public static class TomlFlattener
{
    public static Dictionary<string, string?> Flatten(string tomlText, string sourceName)
    {
        TomlTable model;
        try
        {
            model = TomlSerializer.Deserialize<TomlTable>(tomlText) ?? new TomlTable();
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            throw new ConfigException(sourceName, "not valid TOML: " + FirstLine(e.Message));
        }
        var result = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        Walk(model, "", result);
        return result;
    }

    private static void Walk(TomlTable table, string prefix, Dictionary<string, string?> into)
    {
        foreach (var (key, value) in table)
        {
            var path = prefix.Length == 0 ? key : prefix + ":" + key;
            switch (value)
            {
                case TomlTable t:
                    Walk(t, path, into);
                    break;
                case TomlArray a:
                    into[path] = string.Join(",", a.Select(Scalar));
                    break;
                default:
                    into[path] = Scalar(value);
                    break;
            }
        }
    }

    private static string Scalar(object? v) => v switch
    {
        null => "",
        bool b => b ? "true" : "false",
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => v.ToString() ?? "",
    };

    private static string FirstLine(string s)
    {
        var i = s.IndexOf('\n');
        return (i < 0 ? s : s[..i]).Trim();
    }
}
