/**
 * Everything the product's scripts say, and the Microsoft page that shows it in PowerShell 2.0
 * (Windows Management Framework Core, the newest Windows Server 2003 runs) or .NET Framework 2.0
 * (which PowerShell 2.0 runs on). test/host/scripts.allowlist.test.ts walks the syntax tree of
 * every script and fails on anything not listed here; an entry no script uses fails it too.
 *
 * PowerShell pages are the "Applies To: Windows PowerShell 2.0" help on Microsoft Learn's
 * previous versions. A .NET page is the member's page in Microsoft Learn's API browser, whose
 * "Applies to" table lists the .NET Framework versions that have it (2.0 among them). COM+ pages
 * are the COM+ administration reference (COM+ 1.0, Windows 2000 and later).
 */

const ps2 = (id: string): string => `https://learn.microsoft.com/en-us/previous-versions/${id}(v=technet.10)`;
const about = {
  keywords: ps2("dd315248"),
  operators: ps2("dd347588"),
  comparison: ps2("dd315321"),
  automatic: ps2("dd347675"),
  preference: ps2("dd347731"),
  common: ps2("dd315352"),
  return: ps2("dd347592"),
};

/** A .NET member's page: lower-case namespace, type and member, as the API browser names them. */
const dotnet = (fullName: string): string => `https://learn.microsoft.com/en-us/dotnet/api/${fullName.toLowerCase()}`;

/** The COM+ administration reference. */
const comAdmin = {
  catalog: "https://learn.microsoft.com/en-us/windows/win32/api/comadmin/nn-comadmin-icomadmincatalog",
  shutdown:
    "https://learn.microsoft.com/en-us/windows/win32/api/comadmin/nf-comadmin-icomadmincatalog-shutdownapplication",
  components: "https://learn.microsoft.com/en-us/windows/win32/cossdk/components",
  interfaces: "https://learn.microsoft.com/en-us/windows/win32/cossdk/com--administration-interfaces",
  classes: "https://learn.microsoft.com/en-us/windows/win32/cossdk/summary-description-of-the-comadmin-classes",
};

/** The engine-control COM class is this product's contract with the operator, not Microsoft's (docs/operator-guide.md: Engine control). */
export const engineControlContract = "docs/operator-guide.md#setting-up-real-hosts (Engine control)";

export interface Cmdlet {
  readonly url: string;
  /** The parameters the scripts pass, by lower-case name, with the page that documents each. */
  readonly parameters: Readonly<Record<string, string>>;
}

/** Cmdlets, by lower-case name. */
export const cmdlets: Readonly<Record<string, Cmdlet>> = {
  "write-output": { url: ps2("dd315282"), parameters: {} },
  "new-object": {
    url: ps2("dd315334"),
    parameters: { "-comobject": ps2("dd315334"), "-typename": ps2("dd315334"), "-argumentlist": ps2("dd315334") },
  },
  "test-path": { url: ps2("dd315298"), parameters: { "-literalpath": ps2("dd315298") } },
  "start-job": {
    url: ps2("dd347692"),
    parameters: { "-scriptblock": ps2("dd347692"), "-argumentlist": ps2("dd347692") },
  },
  "wait-job": { url: ps2("dd347634"), parameters: { "-job": ps2("dd347634"), "-timeout": ps2("dd347634") } },
  "remove-job": { url: ps2("dd315374"), parameters: { "-job": ps2("dd315374"), "-force": ps2("dd315374") } },
  "invoke-command": {
    url: ps2("dd347578"),
    parameters: {
      "-computername": ps2("dd347578"),
      "-scriptblock": ps2("dd347578"),
      "-argumentlist": ps2("dd347578"),
      "-erroraction": about.common,
      "-errorvariable": about.common,
    },
  },
};

/** Statements, by keyword. */
export const statements: Readonly<Record<string, string>> = {
  if: about.keywords,
  else: about.keywords,
  foreach: about.keywords,
  do: about.keywords,
  while: about.keywords,
  try: about.keywords,
  catch: about.keywords,
  finally: about.keywords,
  trap: about.keywords,
  function: about.keywords,
  param: about.keywords,
  return: about.return,
  exit: about.keywords,
  break: about.keywords,
  throw: about.keywords,
};

/** Operators, as written. */
export const operators: Readonly<Record<string, string>> = {
  "=": about.operators,
  "+=": about.operators,
  "+": about.operators,
  "-": about.operators,
  "++": about.operators,
  "-not": about.operators,
  "-eq": about.comparison,
  "-ne": about.comparison,
  "-gt": about.comparison,
  "-lt": about.comparison,
  "-ge": about.comparison,
  "-match": about.comparison,
  "-replace": about.comparison,
  "-is": about.comparison,
  "&": about.operators,
  "::": about.operators,
  ".": about.operators,
  "[]": about.operators,
  "[cast]": about.operators,
  "@()": about.operators,
  // The parameters' hashtable of every script, and its splatting into the step's script block
  // (splatting came with PowerShell 2.0; the page says what 3.0 added to it).
  "@{}": "https://learn.microsoft.com/en-us/powershell/module/microsoft.powershell.core/about/about_hash_tables",
  "@ (splatting)":
    "https://learn.microsoft.com/en-us/powershell/module/microsoft.powershell.core/about/about_splatting",
};

/** Variables PowerShell provides, by lower-case name. */
export const variables: Readonly<Record<string, string>> = {
  $_: about.automatic,
  $null: about.automatic,
  $true: about.automatic,
  $false: about.automatic,
  $matches: about.automatic,
  $erroractionpreference: about.preference,
};

export interface DotNetType {
  readonly fullName: string;
  readonly url: string;
}

const type = (fullName: string): DotNetType => ({ fullName, url: dotnet(fullName) });

/** .NET types, by the lower-case name the scripts write them with. */
export const types: Readonly<Record<string, DotNetType>> = {
  void: type("System.Void"),
  // The types of the scripts' parameters (param() blocks) and of common.ps1's functions' parameters.
  string: type("System.String"),
  "string[]": type("System.String"),
  bool: type("System.Boolean"),
  int: type("System.Int32"),
  "io.path": type("System.IO.Path"),
  "io.directory": type("System.IO.Directory"),
  "io.file": type("System.IO.File"),
  "diagnostics.fileversioninfo": type("System.Diagnostics.FileVersionInfo"),
  "diagnostics.process": type("System.Diagnostics.Process"),
  convert: type("System.Convert"),
  "security.cryptography.sha256": type("System.Security.Cryptography.SHA256"),
  datetime: type("System.DateTime"),
  console: type("System.Console"),
  "text.encoding": type("System.Text.Encoding"),
  "text.utf8encoding": type("System.Text.UTF8Encoding"),
  "threading.thread": type("System.Threading.Thread"),
  "threading.mutex": type("System.Threading.Mutex"),
  "threading.waithandlecannotbeopenedexception": type("System.Threading.WaitHandleCannotBeOpenedException"),
  /** The maintenance lease's lock: a mutex whose owner died is still acquired, with this exception. */
  "threading.abandonedmutexexception": type("System.Threading.AbandonedMutexException"),
  "microsoft.win32.registry": type("Microsoft.Win32.Registry"),
  scriptblock: type("System.Management.Automation.ScriptBlock"),
  "management.automation.remoting.psremotingtransportexception": type(
    "System.Management.Automation.Remoting.PSRemotingTransportException",
  ),
};

/** Static members, as `type::member` in lower case (the type as the scripts write it). */
export const staticMembers: Readonly<Record<string, string>> = {
  "io.path::getfilename": dotnet("System.IO.Path.GetFileName"),
  "io.path::combine": dotnet("System.IO.Path.Combine"),
  "io.directory::createdirectory": dotnet("System.IO.Directory.CreateDirectory"),
  "io.file::writeallbytes": dotnet("System.IO.File.WriteAllBytes"),
  "io.file::openread": dotnet("System.IO.File.OpenRead"),
  "io.file::readalllines": dotnet("System.IO.File.ReadAllLines"),
  "diagnostics.fileversioninfo::getversioninfo": dotnet("System.Diagnostics.FileVersionInfo.GetVersionInfo"),
  "diagnostics.process::start": dotnet("System.Diagnostics.Process.Start"),
  "convert::frombase64string": dotnet("System.Convert.FromBase64String"),
  "security.cryptography.sha256::create": dotnet("System.Security.Cryptography.SHA256.Create"),
  "datetime::utcnow": dotnet("System.DateTime.UtcNow"),
  "console::outputencoding": dotnet("System.Console.OutputEncoding"),
  "console::in": dotnet("System.Console.In"),
  "text.encoding::utf8": dotnet("System.Text.Encoding.UTF8"),
  "threading.thread::sleep": dotnet("System.Threading.Thread.Sleep"),
  "threading.mutex::openexisting": dotnet("System.Threading.Mutex.OpenExisting"),
  "microsoft.win32.registry::localmachine": dotnet("Microsoft.Win32.Registry.LocalMachine"),
  "scriptblock::create": dotnet("System.Management.Automation.ScriptBlock.Create"),
};

export interface InstanceMember {
  /** The object the scripts call it on. */
  readonly on: string;
  readonly url: string;
}

const member = (on: string, fullName: string): InstanceMember => ({ on, url: dotnet(fullName) });
const com = (on: string, url: string): InstanceMember => ({ on, url });

/** Members called on an object, as `.member` in lower case. */
export const instanceMembers: Readonly<Record<string, InstanceMember>> = {
  ".filemajorpart": member("FileVersionInfo", "System.Diagnostics.FileVersionInfo.FileMajorPart"),
  ".fileminorpart": member("FileVersionInfo", "System.Diagnostics.FileVersionInfo.FileMinorPart"),
  ".filebuildpart": member("FileVersionInfo", "System.Diagnostics.FileVersionInfo.FileBuildPart"),
  ".fileprivatepart": member("FileVersionInfo", "System.Diagnostics.FileVersionInfo.FilePrivatePart"),
  ".computehash": member("SHA256", "System.Security.Cryptography.HashAlgorithm.ComputeHash"),
  ".close": member("FileStream, RegistryKey, Mutex", "System.IO.Stream.Close"),
  ".tostring": member("Byte", "System.Byte.ToString"),
  ".length": member("Array", "System.Array.Length"),
  ".addseconds": member("DateTime", "System.DateTime.AddSeconds"),
  ".waitforexit": member("Process", "System.Diagnostics.Process.WaitForExit"),
  ".exitcode": member("Process", "System.Diagnostics.Process.ExitCode"),
  ".opensubkey": member("RegistryKey", "Microsoft.Win32.RegistryKey.OpenSubKey"),
  ".getvalue": member("RegistryKey", "Microsoft.Win32.RegistryKey.GetValue"),
  // The maintenance lease (components/host/powershell/common.ps1): its key, its fields, its removal and its lock.
  ".createsubkey": member("RegistryKey", "Microsoft.Win32.RegistryKey.CreateSubKey"),
  ".setvalue": member("RegistryKey", "Microsoft.Win32.RegistryKey.SetValue"),
  ".getvaluenames": member("RegistryKey", "Microsoft.Win32.RegistryKey.GetValueNames"),
  ".deletesubkeytree": member("RegistryKey", "Microsoft.Win32.RegistryKey.DeleteSubKeyTree"),
  ".waitone": member("Mutex", "System.Threading.WaitHandle.WaitOne"),
  ".releasemutex": member("Mutex", "System.Threading.Mutex.ReleaseMutex"),
  ".codepage": member("Encoding", "System.Text.Encoding.CodePage"),
  ".getstring": member("Encoding", "System.Text.Encoding.GetString"),
  ".readline": member("TextReader", "System.IO.TextReader.ReadLine"),
  ".readtoend": member("TextReader", "System.IO.TextReader.ReadToEnd"),
  ".exception": member("ErrorRecord", "System.Management.Automation.ErrorRecord.Exception"),
  ".message": member("Exception", "System.Exception.Message"),
  ".getcollection": com("COMAdminCatalog (ICOMAdminCatalog), and a collection for a related one", comAdmin.catalog),
  ".shutdownapplication": com("COMAdminCatalog (ICOMAdminCatalog)", comAdmin.shutdown),
  ".startapplication": com("COMAdminCatalog (ICOMAdminCatalog)", comAdmin.catalog),
  ".populate": com("COMAdminCatalogCollection (ICatalogCollection)", comAdmin.interfaces),
  ".name": com("COMAdminCatalogObject (ICatalogObject); a component's Name is its ProgID", comAdmin.components),
  ".jobstateinfo": member("Job", "System.Management.Automation.Job.JobStateInfo"),
  ".state": member("JobStateInfo", "System.Management.Automation.JobStateInfo.State"),
  ".key": com("COMAdminCatalogObject (ICatalogObject)", comAdmin.interfaces),
  ".value": com("COMAdminCatalogObject (ICatalogObject)", comAdmin.interfaces),
  ".isactive": com("the engine control", engineControlContract),
  ".activate": com("the engine control", engineControlContract),
  ".deactivate": com("the engine control", engineControlContract),
};

/** COM classes the scripts create, by ProgID in lower case (or the parameter that names one). */
export const comClasses: Readonly<Record<string, string>> = {
  "comadmin.comadmincatalog": comAdmin.classes,
  $enginecontrolprogid: engineControlContract,
  /** In a background job: the first component of the COM+ application, by the ProgID the catalog lists. */
  $componentprogid: comAdmin.components,
};

/** Every page the allow-list cites, once each. */
export function citedPages(): string[] {
  const urls = [
    ...Object.values(cmdlets).flatMap((c) => [c.url, ...Object.values(c.parameters)]),
    ...Object.values(statements),
    ...Object.values(operators),
    ...Object.values(variables),
    ...Object.values(types).map((t) => t.url),
    ...Object.values(staticMembers),
    ...Object.values(instanceMembers).map((m) => m.url),
    ...Object.values(comClasses),
  ];
  return [...new Set(urls)].sort();
}
