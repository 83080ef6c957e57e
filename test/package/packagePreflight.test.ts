import { catalog } from "../../components/domain/catalog";
import { packageProblems } from "../../components/config/packagePreflight";
import * as msiPackage from "../../components/package/msiPackage";
import { regressionPackages } from "./msitools";

const required = Object.fromEntries(catalog[0]!.files.map((file) => [file.name, file.version]));

/** What the reader says of a package it refuses, from the reader itself. */
function refusalOf(path: string): string {
  try {
    msiPackage.readMsiPackageFile(path);
  } catch (error) {
    if (error instanceof msiPackage.MsiPackageError) return error.message;
    throw error;
  }
  throw new Error(`test setup: ${path} is read, not refused`);
}

afterEach(() => jest.restoreAllMocks());

describe("the package pre-flight", () => {
  it.each(regressionPackages)("refuses the $name package in one message naming hotfix and path", ({ msi, kind }) => {
    expect(refusalOf(msi)).toMatch(new RegExp(`^is ${kind}: `));
    expect(packageProblems("KB952089", msi, required)).toEqual([`the KB952089 package ${msi} ${refusalOf(msi)}`]);
  });

  it("turns any other error from the reader into the same one message", () => {
    jest.spyOn(msiPackage, "readMsiPackageFile").mockImplementation(() => {
      throw new TypeError("The first argument must be of type string. Received undefined");
    });
    expect(packageProblems("KB952089", "/srv/hotfixes/KB952089.msi", required)).toEqual([
      "the KB952089 package /srv/hotfixes/KB952089.msi cannot be read: the package reader failed on it " +
        "(TypeError: The first argument must be of type string. Received undefined)",
    ]);
  });
});
