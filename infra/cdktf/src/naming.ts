/**
 * Resource names. Many AWS names are capped at 32 characters (ALB, target
 * group), so regions are shortened: "us-east-1" -> "use1", "europe-west1" -> "euw1".
 */

const AREA: Record<string, string> = {
  europe: "eu",
  asia: "as",
  australia: "au",
  northamerica: "na",
  southamerica: "sa",
  africa: "af",
  me: "me",
};
const DIRECTION: Record<string, string> = {
  north: "n",
  south: "s",
  east: "e",
  west: "w",
  central: "c",
  northeast: "ne",
  northwest: "nw",
  southeast: "se",
  southwest: "sw",
};

export function regionCode(region: string): string {
  return region
    .split("-")
    .map((part, i) => {
      const m = /^([a-z]+)(\d*)$/.exec(part);
      if (!m) return part;
      const [, word = "", digits = ""] = m;
      if (i === 0) return AREA[word] ?? word.slice(0, 2);
      return (DIRECTION[word] ?? word) + digits;
    })
    .join("");
}

/** Builds "<app>-<env>-<region code>[-suffix]" names. */
export class Namer {
  constructor(
    readonly appName: string,
    readonly environment: string,
    readonly region: string,
  ) {}

  get prefix(): string {
    return `${this.appName}-${this.environment}-${regionCode(this.region)}`;
  }

  name(suffix?: string): string {
    return suffix ? `${this.prefix}-${suffix}` : this.prefix;
  }
}

export function awsStackName(appName: string, environment: string, region: string): string {
  return `${appName}-${environment}-aws-${region}`;
}

export function gcpStackName(appName: string, environment: string, part: string): string {
  return `${appName}-${environment}-gcp-${part}`;
}
