namespace Portcullis.Server.Dkim;

/// <summary>A refused key operation (bad domain or selector, key already there); the message is for the administrator as it is.</summary>
public sealed class DkimKeyException(string message) : Exception(message);
