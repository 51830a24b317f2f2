namespace Portcullis.Configuration;

/// <summary>A bad setting: names the key (as in portcullis.toml, e.g. "listeners.mx") and what is wrong with it.</summary>
public sealed class ConfigException(string key, string problem) : Exception($"{key}: {problem}")
{
    public string Key { get; } = key;
    public string Problem { get; } = problem;
}
