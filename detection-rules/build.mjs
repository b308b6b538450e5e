// SPDX-License-Identifier: Apache-2.0
/**
 * Generates detection-rules/threatflow-rules-8.14.ndjson: Elastic Security detection rules in the rule
 * import format (one rule per line), for Kibana 8.14's Security → Rules → Import or the detection engine
 * API (`POST /api/detection_engine/rules/_import`). Rule ids are UUIDs derived from a fixed name, so the
 * file is deterministic and re-importing (with overwrite) updates rules in place.
 *
 * Run `node detection-rules/build.mjs`.
 */
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));

export const FLOWS_INDEX = 'logs-threatflow.flows-*';
export const INDICATOR_INDEX = 'logs-ti_threatflow_latest.indicators';
const PASSIVETOTAL = 'https://community.riskiq.com/research';

/** A name-based UUID (RFC 4122 version 5 layout over SHA-1) in the threatflow namespace. */
function uuid5(name) {
  const h = createHash('sha1').update(`threatflow-detection-rule:${name}`).digest();
  h[6] = (h[6] & 0x0f) | 0x50;
  h[8] = (h[8] & 0x3f) | 0x80;
  const x = h.subarray(0, 16).toString('hex');
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20, 32)}`;
}

const common = (key) => ({
  rule_id: uuid5(key),
  author: ['threatflow'],
  license: 'Apache-2.0',
  enabled: false,
  interval: '5m',
  from: 'now-6m',
  to: 'now',
  max_signals: 100,
  version: 1,
  false_positives: [],
  exceptions_list: [],
  actions: [],
  references: [PASSIVETOTAL],
});

function tactic(id, name, techniques = []) {
  return {
    framework: 'MITRE ATT&CK',
    tactic: { id, name, reference: `https://attack.mitre.org/tactics/${id}/` },
    technique: techniques.map(([tid, tname]) => ({ id: tid, name: tname, reference: `https://attack.mitre.org/techniques/${tid}/`, subtechnique: [] })),
  };
}

const indicatorMatch = {
  ...common('indicator-match'),
  name: 'threatflow: flow to or from a RiskIQ PassiveTotal indicator',
  description:
    'A flow whose source or destination address is listed in the threatflow threat DB (RiskIQ PassiveTotal), ' +
    'matched against the indicator index logs-ti_threatflow_latest.indicators. Open the address in PassiveTotal ' +
    'from the alert (threat.enrichments.indicator.reference).',
  type: 'threat_match',
  language: 'kuery',
  index: [FLOWS_INDEX],
  query: 'source.ip : * or destination.ip : *',
  threat_index: [INDICATOR_INDEX],
  threat_language: 'kuery',
  threat_query: 'threat.indicator.ip : *',
  threat_indicator_path: 'threat.indicator',
  threat_filters: [],
  threat_mapping: [
    { entries: [{ field: 'source.ip', type: 'mapping', value: 'threat.indicator.ip' }] },
    { entries: [{ field: 'destination.ip', type: 'mapping', value: 'threat.indicator.ip' }] },
  ],
  items_per_search: 1000,
  concurrent_searches: 1,
  risk_score: 73,
  severity: 'high',
  tags: ['threatflow', 'Network', 'Threat Intel', 'RiskIQ PassiveTotal'],
  threat: [tactic('TA0011', 'Command and Control')],
};

/** Query rules: public clients reaching sensitive services on private servers. */
const DB_PORTS = [1433, 1521, 3306, 5432, 6379, 9200, 27017];
const exposure = [
  {
    key: 'public-smb',
    name: 'threatflow: public client reaching SMB on a private server',
    service: 'SMB (445, 139)',
    ports: [445, 139],
    risk_score: 73,
    severity: 'high',
    threat: [tactic('TA0008', 'Lateral Movement', [['T1021', 'Remote Services']]), tactic('TA0001', 'Initial Access', [['T1190', 'Exploit Public-Facing Application']])],
  },
  {
    key: 'public-rdp',
    name: 'threatflow: public client reaching RDP on a private server',
    service: 'RDP (3389)',
    ports: [3389],
    risk_score: 73,
    severity: 'high',
    threat: [tactic('TA0001', 'Initial Access', [['T1133', 'External Remote Services']])],
  },
  {
    key: 'public-database',
    name: 'threatflow: public client reaching a database port on a private server',
    service: `database ports (${DB_PORTS.join(', ')}: MSSQL, Oracle, MySQL, PostgreSQL, Redis, Elasticsearch, MongoDB)`,
    ports: DB_PORTS,
    risk_score: 47,
    severity: 'medium',
    threat: [tactic('TA0001', 'Initial Access', [['T1190', 'Exploit Public-Facing Application']])],
  },
].map((r) => ({
  ...common(r.key),
  name: r.name,
  description:
    `A client with a public address (source.locality: public) sent a flow to ${r.service} on a server with a private ` +
    'address (destination.locality: private): the service is reachable from the Internet. Check the client in PassiveTotal.',
  type: 'query',
  language: 'kuery',
  index: [FLOWS_INDEX],
  query: `source.locality : "public" and destination.locality : "private" and destination.port : (${r.ports.join(' or ')})`,
  risk_score: r.risk_score,
  severity: r.severity,
  tags: ['threatflow', 'Network', 'Exposure'],
  threat: r.threat,
}));

/**
 * One machine learning rule per anomaly-detection job of ml-jobs/ (DESIGN §11). The job ids are the
 * contract with ml-jobs/ (listed in README.md).
 */
export const ML_JOBS = [
  ['threatflow_threat_activity_internal_host', 'unusual count of threat flows per internal host', 'TA0011', 'Command and Control'],
  ['threatflow_rare_threat_counterpart', 'rare threat counterpart for an internal host', 'TA0011', 'Command and Control'],
  ['threatflow_port_scan', 'port scan (many destination ports from one source)', 'TA0007', 'Discovery'],
  ['threatflow_icmp_sweep', 'ICMP sweep (many targets pinged by one source)', 'TA0007', 'Discovery'],
  ['threatflow_brute_force_ssh_rdp_vnc', 'brute force (many client ports to SSH/RDP/VNC from one client)', 'TA0006', 'Credential Access'],
  ['threatflow_syn_flood', 'SYN flood (SYN-only flows to one target)', 'TA0040', 'Impact'],
  ['threatflow_udp_amplification', 'UDP amplification (bytes from reflector ports to one target)', 'TA0040', 'Impact'],
  ['threatflow_exfiltration_outbound_bytes', 'unusual outbound bytes to public addresses', 'TA0010', 'Exfiltration'],
];

const mlRules = ML_JOBS.map(([job, what, tid, tname]) => ({
  ...common(`ml:${job}`),
  name: `threatflow ML: ${what}`,
  description: `An anomaly of the threatflow machine learning job ${job}: ${what}, in the flows of ${FLOWS_INDEX}. The job's custom URLs open PassiveTotal for the influencer IP and the threatflow dashboard for the anomaly's time range.`,
  type: 'machine_learning',
  machine_learning_job_id: [job],
  anomaly_threshold: 75,
  interval: '15m',
  from: 'now-45m',
  risk_score: 47,
  severity: 'medium',
  tags: ['threatflow', 'Network', 'ML'],
  threat: [tactic(tid, tname)],
}));

export const RULES = [indicatorMatch, ...exposure, ...mlRules];

const out = `${RULES.map((r) => JSON.stringify(r)).join('\n')}\n`;
// `--stdout` prints instead of writing (the content test compares it with the committed file).
if (process.argv.includes('--stdout')) process.stdout.write(out);
else {
  writeFileSync(join(here, 'threatflow-rules-8.14.ndjson'), out);
  console.log(`wrote ${RULES.length} rules`);
}
