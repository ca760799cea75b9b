//! The message catalogue (English and Simplified Chinese) and per-locale dates and numbers.
//!
//! Every string a screen shows comes from [`MESSAGES`] through [`Tr::get`]. Clinical terms use
//! their standard Chinese translation; CTCAE v5.0 terms and grade definitions, MedDRA, RECIST,
//! ECOG, and laboratory abbreviations (INR, AST, ALT) stay in English, as in Chinese trial
//! documents; screens mark such data `translate="no"`.

/// An interface language.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Locale {
    /// English.
    En,
    /// Simplified Chinese.
    Zh,
}

impl Locale {
    /// From a stored code (`en`, `zh`); anything else is English.
    pub fn from_code(code: &str) -> Locale {
        if code.starts_with("zh") { Locale::Zh } else { Locale::En }
    }

    /// From an `Accept-Language` header (for signed-out screens and messages).
    pub fn from_accept_language(header: Option<&str>) -> Locale {
        let first = header.unwrap_or("").split(',').next().unwrap_or("").trim().to_ascii_lowercase();
        Locale::from_code(&first)
    }

    /// The stored code and HTML `lang`.
    pub fn code(self) -> &'static str {
        match self {
            Locale::En => "en",
            Locale::Zh => "zh",
        }
    }
}

/// A translator for one locale (what templates call `t`).
#[derive(Clone, Copy, Debug)]
pub struct Tr {
    /// The locale.
    pub locale: Locale,
}

impl Tr {
    /// The translator of `locale`.
    pub fn new(locale: Locale) -> Tr {
        Tr { locale }
    }

    /// The message `key` in this locale; an unknown key is returned as itself (and caught by the
    /// catalogue tests and the untranslated-string test).
    pub fn get<'k>(&self, key: &'k str) -> &'k str {
        match MESSAGES.binary_search_by(|(k, _, _)| (*k).cmp(key)) {
            Ok(i) => match self.locale {
                Locale::En => MESSAGES[i].1,
                Locale::Zh => MESSAGES[i].2,
            },
            Err(_) => key,
        }
    }

    /// HTML `lang` of the page.
    pub fn lang(&self) -> &'static str {
        self.locale.code()
    }

    /// The code of the other language (the language switch).
    pub fn other_code(&self) -> &'static str {
        match self.locale {
            Locale::En => "zh",
            Locale::Zh => "en",
        }
    }

    /// The other language's name, in that language.
    pub fn other_name(&self) -> &'static str {
        match self.locale {
            Locale::En => "中文",
            Locale::Zh => "English",
        }
    }

    /// A `YYYY-MM-DD` date in this locale (`5 Jan 2026`, `2026年1月5日`); anything else as is.
    pub fn date(&self, iso: &str) -> String {
        let parts: Vec<&str> = iso.get(..10).unwrap_or(iso).split('-').collect();
        let (Some(y), Some(m), Some(d)) = (
            parts.first().and_then(|p| p.parse::<u32>().ok()),
            parts.get(1).and_then(|p| p.parse::<usize>().ok()).filter(|m| (1..=12).contains(m)),
            parts.get(2).and_then(|p| p.parse::<u32>().ok()),
        ) else {
            return iso.to_owned();
        };
        match self.locale {
            Locale::En => {
                const MONTHS: [&str; 12] =
                    ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
                format!("{d} {} {y}", MONTHS[m - 1])
            }
            Locale::Zh => format!("{y}年{m}月{d}日"),
        }
    }

    /// A number with `decimals` places, thousands grouped (`1,234.5` in both locales; Chinese
    /// documents group by thousands with the same separator).
    pub fn number(&self, value: f64, decimals: usize) -> String {
        let text = format!("{:.*}", decimals, value.abs());
        let (int, frac) = text.split_once('.').map_or((text.as_str(), None), |(i, f)| (i, Some(f)));
        let mut grouped = String::new();
        for (i, c) in int.chars().enumerate() {
            if i > 0 && (int.len() - i) % 3 == 0 {
                grouped.push(',');
            }
            grouped.push(c);
        }
        let sign = if value < 0.0 && text.chars().any(|c| c.is_ascii_digit() && c != '0') { "-" } else { "" };
        match frac {
            Some(f) => format!("{sign}{grouped}.{f}"),
            None => format!("{sign}{grouped}"),
        }
    }
}

/// `(key, English, Simplified Chinese)`, sorted by key (checked by a test).
pub const MESSAGES: &[(&str, &str, &str)] = &[
    ("actions.add_lesion", "Add lesion", "添加病灶"),
    ("actions.new_ae", "Record adverse event", "记录不良事件"),
    ("actions.plans", "Plan review", "计划审核"),
    ("actions.procedure", "Record procedure", "记录治疗操作"),
    ("actions.randomize", "Randomize", "随机分组"),
    (
        "actions.randomize_confirm",
        "Randomize this patient? This cannot be undone.",
        "确认对该患者进行随机分组？此操作不可撤销。",
    ),
    ("actions.read", "Open reader workstation", "打开阅片工作站"),
    ("adj.accept", "Accepted reader", "采纳的评估者"),
    ("adj.none", "Nothing to adjudicate", "暂无待裁定病例"),
    ("adj.reader", "Reader", "评估者"),
    ("adj.reason", "Reason", "理由"),
    ("adj.submit", "Record adjudication", "保存裁定"),
    ("adj.sum", "Sum of diameters (mm)", "径线总和（mm）"),
    ("adj.title", "Adjudication queue", "裁定队列"),
    ("ae.attribution", "Attribution", "归因"),
    ("ae.cause", "Cause", "原因"),
    ("ae.certainty", "Certainty", "相关性"),
    ("ae.grade", "Grade", "分级"),
    ("ae.grades", "Grade definitions", "分级定义"),
    ("ae.list", "Adverse events", "不良事件"),
    ("ae.meddra_version", "MedDRA version", "MedDRA 版本"),
    ("ae.onset", "Onset", "发生日期"),
    ("ae.resolution", "Resolution", "结束日期"),
    ("ae.search", "Search CTCAE v5.0 terms", "搜索 CTCAE v5.0 术语"),
    ("ae.serious", "Seriousness criteria", "严重性标准"),
    ("ae.specification", "Specification (for “Other, specify” terms)", "具体说明（用于“其他，请注明”术语）"),
    ("ae.submit", "Record adverse event", "保存不良事件"),
    ("ae.term", "CTCAE term", "CTCAE 术语"),
    ("ae.title", "Adverse event entry", "不良事件录入"),
    ("allocation.arm", "Arm", "组别"),
    ("allocation.title", "Allocation", "随机分组结果"),
    ("answer.no", "No", "否"),
    ("answer.unknown", "Not answered", "未回答"),
    ("answer.yes", "Yes", "是"),
    ("arm.control", "Control (single modality)", "对照组（单一治疗方式）"),
    ("arm.experimental", "Experimental (lesion allocation and zoning)", "试验组（病灶分配与分区治疗）"),
    ("arm.short.control", "Control", "对照组"),
    ("arm.short.experimental", "Experimental", "试验组"),
    ("audit.action", "Action", "操作"),
    ("audit.action.create", "Created", "创建"),
    ("audit.action.export", "Exported", "导出"),
    ("audit.action.generate_list", "Allocation list generated", "生成随机分配表"),
    ("audit.action.import", "Imported", "导入"),
    ("audit.action.lock", "Locked", "锁定"),
    ("audit.action.login", "Signed in", "登录"),
    ("audit.action.logout", "Signed out", "退出登录"),
    ("audit.action.password", "Password set", "设置密码"),
    ("audit.action.randomize", "Randomized", "随机分组"),
    ("audit.action.reauthenticate", "Password typed again", "再次验证密码"),
    ("audit.action.rescreen", "Rescreened", "重新筛选"),
    ("audit.action.sign", "Signed", "签名"),
    ("audit.action.unblind", "Unblinded", "揭盲"),
    ("audit.action.unlock", "Unlocked", "解锁"),
    ("audit.action.update", "Changed", "修改"),
    ("audit.action.view", "Viewed (unblinded data)", "查看（非盲数据）"),
    ("audit.actor", "Who", "操作人"),
    ("audit.at", "When", "时间"),
    ("audit.back", "Back to patient", "返回患者"),
    ("audit.chain", "Hash chain", "哈希链"),
    ("audit.chain_broken", "The audit trail's hash chain is broken at entry", "稽查轨迹哈希链在以下条目处断裂"),
    (
        "audit.chain_intact",
        "The audit trail's hash chain verifies: no entry was edited, removed or inserted.",
        "稽查轨迹哈希链校验通过：没有条目被修改、删除或插入。",
    ),
    (
        "audit.chain_note",
        "The same check as the command-line audit verification, over every entry of the trial.",
        "与命令行稽查校验相同，覆盖试验的全部条目。",
    ),
    ("audit.entries", "Entries of this record", "本记录的条目"),
    ("audit.entries_checked", "Entries checked", "已校验条目"),
    ("audit.field", "Field", "字段"),
    ("audit.hash", "Entry hash", "条目哈希"),
    ("audit.hash_bad", "does not match", "不匹配"),
    ("audit.hash_ok", "verified", "已校验"),
    ("audit.head", "Chain head", "链头"),
    ("audit.new", "After", "修改后"),
    ("audit.none", "No entries.", "暂无条目。"),
    ("audit.old", "Before", "修改前"),
    ("audit.patient", "Audit trail of the patient record", "患者记录的稽查轨迹"),
    ("audit.reason", "Reason", "理由"),
    ("audit.records", "The patient's records", "该患者的记录"),
    ("audit.title", "Audit trail", "稽查轨迹"),
    ("cause.cryoablation", "Cryoablation procedure", "冷冻消融操作"),
    ("cause.disease", "Underlying disease", "基础疾病"),
    ("cause.other", "Other", "其他"),
    ("cause.radiation", "Radiation from the seeds", "粒子辐射"),
    ("cause.seed_implantation", "Seed implantation procedure", "粒子植入操作"),
    ("certainty.definite", "Definite", "肯定有关"),
    ("certainty.possible", "Possible", "可能有关"),
    ("certainty.probable", "Probable", "很可能有关"),
    ("certainty.unlikely", "Unlikely", "可能无关"),
    ("certainty.unrelated", "Unrelated", "无关"),
    ("consort.allocated_to", "Allocated to", "分配至"),
    ("consort.analysed", "Analysed", "纳入分析"),
    ("consort.assessed", "Assessed for eligibility", "评估入组资格"),
    ("consort.discontinued", "Discontinued", "终止"),
    ("consort.excluded", "Excluded", "排除"),
    ("consort.lost", "Lost to follow-up", "失访"),
    ("consort.not_eligible", "not eligible", "不符合入组条件"),
    ("consort.not_randomized", "eligible, not randomized", "符合条件但未随机"),
    ("consort.pending", "eligibility pending", "入组资格待定"),
    ("consort.randomized", "Randomized", "随机分组"),
    ("consort.received", "Received allocated intervention", "接受分配的干预"),
    ("consort.title", "CONSORT flow diagram", "CONSORT 流程图"),
    ("criterion.exclusion.emergent_intervention", "No need for emergent intervention", "无需紧急干预"),
    ("criterion.exclusion.investigator_judgement", "Not excluded by investigator judgement", "未因研究者判断而排除"),
    (
        "criterion.exclusion.prior_local_therapy_bulky",
        "No prior local therapy to the bulky index lesion",
        "大体积指示病灶既往未接受局部治疗",
    ),
    ("criterion.exclusion.severe_cardiopulmonary", "No severe cardiopulmonary comorbidity", "无严重心肺合并症"),
    ("criterion.exclusion.target_not_accessible", "Every target lesion safely accessible", "所有靶病灶均可安全穿刺"),
    ("criterion.exclusion.uncontrolled_cns", "No uncontrolled CNS metastases", "无未控制的中枢神经系统转移"),
    ("criterion.exclusion.uncontrolled_effusion", "No uncontrolled effusion or ascites", "无未控制的胸腔积液或腹水"),
    ("criterion.exclusion.uncontrolled_infection", "No active uncontrolled infection", "无活动性未控制感染"),
    ("criterion.inclusion.age", "Age", "年龄"),
    ("criterion.inclusion.alt", "ALT", "ALT"),
    ("criterion.inclusion.anc", "Absolute neutrophil count", "中性粒细胞绝对计数"),
    ("criterion.inclusion.ast", "AST", "AST"),
    ("criterion.inclusion.bilirubin", "Total bilirubin", "总胆红素"),
    ("criterion.inclusion.bulky_index", "One bulky index lesion", "一个大体积指示病灶"),
    ("criterion.inclusion.creatinine_clearance", "Creatinine clearance", "肌酐清除率"),
    ("criterion.inclusion.ecog", "ECOG performance status", "ECOG 体能状态"),
    ("criterion.inclusion.haemoglobin", "Haemoglobin", "血红蛋白"),
    ("criterion.inclusion.histology", "Confirmed solid malignancy", "确诊的实体恶性肿瘤"),
    ("criterion.inclusion.inr", "INR", "INR"),
    ("criterion.inclusion.measurable_targets", "Measurable target lesions (RECIST 1.1)", "可测量靶病灶（RECIST 1.1）"),
    ("criterion.inclusion.metastatic", "Metastatic disease", "转移性疾病"),
    ("criterion.inclusion.metastatic_lesion_count", "At least 3 metastatic lesions", "转移病灶不少于3个"),
    ("criterion.inclusion.not_curable", "Not amenable to curative therapy", "不适合根治性治疗"),
    ("criterion.inclusion.platelets", "Platelets", "血小板"),
    ("criterion.inclusion.target_count", "2 to 5 target lesions", "2至5个靶病灶"),
    ("decision.cryo", "Cryoablation", "冷冻消融"),
    ("decision.seeds", "Seed implantation", "粒子植入"),
    ("decision.zoned", "Zoned: cryoablation core, seeded margin", "分区治疗：冷冻消融核心区，粒子植入边缘区"),
    ("endpoint.lpfs", "Local progression-free survival of the bulky lesion", "大病灶局部无进展生存期"),
    ("endpoint.os", "Overall survival", "总生存期"),
    ("endpoint.pfs", "Progression-free survival", "无进展生存期"),
    ("endpoint.ttsp", "Time to systemic progression", "至全身进展时间"),
    ("endpoint.ttsp_cr", "Time to systemic progression (competing risks)", "至全身进展时间（竞争风险）"),
    ("error.forbidden", "Your role may not open this page.", "您的角色无权访问此页面。"),
    ("error.not_found", "Not found.", "未找到。"),
    ("event.adjudication", "Adjudication", "裁定"),
    ("event.adverse_event", "Adverse event", "不良事件"),
    ("event.assessment", "Imaging assessment", "影像评估"),
    ("event.deviation", "Protocol deviation", "方案偏离"),
    ("event.plan", "Treatment plan", "治疗计划"),
    ("event.procedure", "Procedure", "治疗操作"),
    ("event.randomization", "Randomization", "随机分组"),
    ("event.screening", "Screening", "筛选"),
    ("event.signature", "Signature", "电子签名"),
    ("excl.emergent_intervention", "Needs emergent intervention", "需要紧急干预"),
    ("excl.investigator_judgement", "Excluded by investigator judgement (reason)", "研究者判断排除（原因）"),
    (
        "excl.prior_local_therapy_bulky",
        "Prior local therapy to the bulky index lesion",
        "大体积指示病灶既往接受过局部治疗",
    ),
    ("excl.severe_cardiopulmonary", "Severe cardiopulmonary comorbidity", "严重心肺合并症"),
    ("excl.target_not_accessible", "A target lesion is not safely accessible", "靶病灶无法安全穿刺"),
    ("excl.uncontrolled_cns", "Uncontrolled CNS metastases", "未控制的中枢神经系统转移"),
    ("excl.uncontrolled_effusion", "Uncontrolled effusion or ascites", "未控制的胸腔积液或腹水"),
    ("excl.uncontrolled_infection", "Active uncontrolled infection", "活动性未控制感染"),
    ("export.adam", "ADaM datasets (zip)", "ADaM 数据集（zip）"),
    ("export.ipd", "De-identified IPD (zip)", "去标识化 IPD（zip）"),
    ("export.ipd_seed", "Seed of the participant codes", "受试者代码种子"),
    (
        "export.note",
        "The same files as the command line writes; every download is recorded in the audit trail. Keep the IPD seed secret: with it the codes can be re-linked.",
        "与命令行导出的文件相同；每次下载均记入稽查轨迹。请对 IPD 种子保密：凭该种子可重新关联受试者代码。",
    ),
    ("export.report", "Analysis report (zip)", "分析报告（zip）"),
    ("export.sdtm", "SDTM datasets (zip)", "SDTM 数据集（zip）"),
    (
        "export.seed_invalid",
        "must be a whole number from 0 to 18446744073709551615",
        "必须是 0 到 18446744073709551615 之间的整数",
    ),
    ("export.seed_required", "is required for the IPD", "导出 IPD 时必填"),
    ("export.title", "Exports", "数据导出"),
    ("form.error", "Please correct the marked fields.", "请更正标记的字段。"),
    ("form.saved", "Saved.", "已保存。"),
    ("grade.label", "Grade", "级"),
    (
        "home.api_only",
        "Your role works through the API for now (/api/openapi.json); its screens come in a later version.",
        "您的角色目前通过 API 工作（/api/openapi.json），相应页面将在后续版本提供。",
    ),
    ("lab.alt", "ALT (× ULN)", "ALT（×ULN）"),
    ("lab.anc", "Absolute neutrophil count (10⁹/L)", "中性粒细胞绝对计数（10⁹/L）"),
    ("lab.ast", "AST (× ULN)", "AST（×ULN）"),
    ("lab.bilirubin", "Total bilirubin (× ULN)", "总胆红素（×ULN）"),
    ("lab.creatinine_clearance", "Creatinine clearance (mL/min)", "肌酐清除率（mL/min）"),
    ("lab.haemoglobin", "Haemoglobin (g/L)", "血红蛋白（g/L）"),
    ("lab.inr", "INR", "INR"),
    ("lab.platelets", "Platelets (10⁹/L)", "血小板（10⁹/L）"),
    ("lesion.bulky", "Bulky index lesion", "大体积指示病灶"),
    ("lesion.id", "Lesion", "病灶编号"),
    ("lesion.longest_mm", "Longest diameter (mm)", "最长径（mm）"),
    ("lesion.nodal", "Lymph node", "淋巴结"),
    ("lesion.non_target", "Non-target", "非靶病灶"),
    ("lesion.organ", "Organ", "器官"),
    ("lesion.role", "RECIST role", "RECIST 类型"),
    ("lesion.short_axis_mm", "Short axis (mm)", "短径（mm）"),
    ("lesion.target", "Target", "靶病灶"),
    ("lesion.volume_ml", "Volume (mL)", "体积（mL）"),
    ("lesions.title", "Lesions", "病灶"),
    ("lock.already_locked", "the patient's data is already locked", "该患者数据已锁定"),
    ("lock.already_unlocked", "the patient's data is not locked", "该患者数据未锁定"),
    (
        "lock.is_locked",
        "The patient's data is locked: changes are refused until it is unlocked.",
        "该患者数据已锁定：解锁前拒绝任何修改。",
    ),
    ("lock.is_unlocked", "The patient's data is open for changes.", "该患者数据可修改。"),
    ("lock.lock", "Lock the patient's data", "锁定患者数据"),
    ("lock.reason", "Reason", "理由"),
    ("lock.title", "Data lock", "数据锁定"),
    ("lock.unlock", "Unlock the patient's data", "解锁患者数据"),
    ("login.failed", "Unknown user or wrong password.", "用户名或密码错误。"),
    ("login.password", "Password", "密码"),
    ("login.rate_limited", "Too many failed sign-ins. Try again later.", "登录失败次数过多，请稍后再试。"),
    ("login.submit", "Sign in", "登录"),
    ("login.title", "Sign in", "登录"),
    ("login.user_id", "User ID", "用户名"),
    ("modality.cryo", "Cryoablation", "冷冻消融"),
    ("modality.seeds", "I-125 seed implantation", "碘-125粒子植入"),
    ("nav.adjudications", "Adjudication queue", "裁定队列"),
    ("nav.patients", "Patients", "患者"),
    ("nav.queries", "Queries", "数据质疑"),
    ("nav.screening", "Screening", "筛选"),
    ("nav.sign_out", "Sign out", "退出登录"),
    ("nav.statistics", "Statistics", "统计分析"),
    ("obs.disappeared", "Disappeared", "消失"),
    ("obs.measured", "Measured", "已测量"),
    ("obs.not_evaluated", "Not evaluated", "未评估"),
    ("obs.too_small", "Too small to measure", "过小无法测量"),
    ("obs.unequivocal_progression", "Unequivocal progression", "明确进展"),
    ("organ.aorta", "Aorta", "主动脉"),
    ("organ.body", "Body contour", "体表轮廓"),
    ("organ.bone", "Bone", "骨"),
    ("organ.bowel", "Bowel", "肠道"),
    ("organ.central_airway", "Central airway", "中央气道"),
    ("organ.heart", "Heart", "心脏"),
    ("organ.kidney", "Kidney", "肾脏"),
    ("organ.liver", "Liver", "肝脏"),
    ("organ.lung", "Lung", "肺"),
    ("organ.lymph_node", "Lymph node", "淋巴结"),
    ("organ.nerve", "Major nerve", "主要神经"),
    ("organ.other_vessel", "Other vessel", "其他血管"),
    ("organ.pelvis", "Pelvis", "盆腔"),
    ("organ.skin", "Skin", "皮肤"),
    ("organ.soft_tissue", "Soft tissue", "软组织"),
    ("organ.spinal_cord", "Spinal cord", "脊髓"),
    ("organ.vena_cava", "Inferior vena cava", "下腔静脉"),
    ("patient.enrolled_on", "Screened on", "筛选日期"),
    ("patient.id", "Patient", "患者编号"),
    ("patient.locked", "Locked", "已锁定"),
    ("patient.site", "Site", "中心"),
    ("patient.status", "Status", "状态"),
    ("patients.new_screening", "New screening", "新建筛选"),
    ("patients.none", "No patients yet.", "暂无患者。"),
    ("patients.title", "Patients", "患者列表"),
    ("plan.all_pass", "Every constraint holds", "所有约束均满足"),
    ("plan.checks", "Criteria evaluated", "评估的标准"),
    ("plan.constraint", "Constraint", "约束"),
    ("plan.decision", "Treatment", "治疗方式"),
    (
        "plan.error.arm",
        "the plan was made for another arm than the patient's allocation",
        "该计划的组别与患者的随机分组不一致",
    ),
    (
        "plan.error.format",
        "is not a patient plan of the planner (plan.json)",
        "不是计划软件生成的患者计划（plan.json）",
    ),
    ("plan.error.format_version", "is an unsupported plan format version", "计划格式版本不受支持"),
    ("plan.error.lesion", "is not one of the patient's lesions", "不是该患者的病灶"),
    ("plan.error.no_allocations", "the plan allocates no lesion", "该计划未分配任何病灶"),
    ("plan.error.not_json", "is not a JSON text", "不是 JSON 文本"),
    ("plan.error.not_randomized", "the patient is not randomized yet", "该患者尚未随机分组"),
    ("plan.error.patient", "the plan is for another patient", "该计划属于其他患者"),
    ("plan.error.protocol", "the plan was made under another protocol version", "该计划基于其他版本的方案"),
    (
        "plan.error.review_format",
        "is not a plan-review bundle of the planner (review.json)",
        "不是计划软件生成的计划审核数据包",
    ),
    ("plan.error.review_plan", "the review bundle belongs to another plan", "该审核数据包属于其他计划"),
    ("plan.evidence", "Evidence", "依据"),
    ("plan.fail", "Fails", "不满足"),
    ("plan.file", "Plan file (plan.json written by the planner)", "计划文件（计划软件输出的 .json 文件）"),
    ("plan.hash", "Document hash", "文档哈希值"),
    ("plan.lesion_plans", "Lesion allocation", "病灶分配"),
    ("plan.limit", "Limit", "限值"),
    ("plan.none", "No plan stored yet.", "尚无已保存的计划。"),
    ("plan.not_all_pass", "Some constraints fail", "部分约束未满足"),
    ("plan.override", "Investigator override", "研究者调整"),
    ("plan.pass", "Holds", "满足"),
    ("plan.plan_verdicts", "Plan-wide constraints (organs at risk, patient)", "整体约束（危及器官、患者）"),
    ("plan.protocol_decision", "Protocol decision", "方案决定"),
    ("plan.reason", "Reason", "理由"),
    ("plan.rule", "Deciding rule", "决定规则"),
    ("plan.scope", "Applies to", "适用对象"),
    ("plan.shortfall", "Missed by", "差距"),
    ("plan.software", "Planner version", "计划软件版本"),
    ("plan.title", "Plan review", "治疗计划审核"),
    ("plan.unreadable", "This plan document has no allocation table. Its format:", "该计划文档没有分配表。格式："),
    ("plan.upload", "Store plan", "保存计划"),
    ("plan.value", "Value", "数值"),
    ("plan.verdicts", "Constraint verdicts", "约束判定"),
    ("procedure.before_randomization", "is before the randomization", "早于随机分组日期"),
    ("procedure.cryo", "Cryoablation", "冷冻消融"),
    ("procedure.freeze_thaw", "Freeze–thaw protocol", "冻融方案"),
    ("procedure.list", "Procedures recorded", "已记录的治疗操作"),
    ("procedure.modality", "Modality", "治疗方式"),
    ("procedure.needles", "Needles", "穿刺针数"),
    ("procedure.not_randomized", "the patient is not randomized yet", "该患者尚未随机分组"),
    ("procedure.notes", "Technical notes", "技术备注"),
    ("procedure.only_cryo", "only for a cryoablation", "仅用于冷冻消融"),
    ("procedure.only_seeds", "only for a seed implantation", "仅用于粒子植入"),
    ("procedure.performed_on", "Procedure date", "操作日期"),
    ("procedure.planned", "Planned treatment", "计划的治疗方式"),
    ("procedure.probes", "Cryoprobes", "冷冻探针数"),
    (
        "procedure.reintervention",
        "Re-intervention for progression (not protocol therapy)",
        "因进展再次干预（非方案治疗）",
    ),
    ("procedure.seeds", "Seed implantation", "粒子植入"),
    ("procedure.seeds_implanted", "Seeds implanted", "植入粒子数"),
    ("procedure.submit", "Record procedure", "保存治疗操作"),
    ("procedure.title", "Procedure entry", "治疗操作录入"),
    ("queries.any", "Any", "全部"),
    ("queries.filter", "Filter", "筛选"),
    ("queries.none", "No queries.", "暂无质疑。"),
    ("queries.title", "Data queries", "数据质疑"),
    ("query.answer", "Answer", "答复"),
    ("query.bad_status", "must be open, answered or closed", "必须为待答复、已答复或已关闭"),
    ("query.close", "Close", "关闭质疑"),
    ("query.field", "Record and field", "记录与字段"),
    ("query.field_hint", "record id and field", "记录编号与字段"),
    ("query.not_answered", "only an answered query can be closed", "只有已答复的质疑可以关闭"),
    ("query.not_open", "only an open query can be answered", "只有待答复的质疑可以答复"),
    ("query.one", "Query", "质疑"),
    ("query.question", "Question", "问题"),
    ("query.raise", "Raise a query", "提出质疑"),
    ("query.raised_by", "Raised by", "提出人"),
    ("query.status", "Status", "状态"),
    ("query.status.answered", "Answered", "已答复"),
    ("query.status.closed", "Closed", "已关闭"),
    ("query.status.open", "Open", "待答复"),
    ("query.submit_answer", "Answer", "提交答复"),
    ("query.unknown_patient", "is not a patient you may see", "不是您可查看的患者"),
    ("query.unknown_site", "is not a site of the trial", "不是本试验的中心"),
    ("read.diameter", "Diameter (mm)", "直径（mm）"),
    ("read.margin_enhancement", "Margin enhancement", "边缘强化"),
    ("read.previous", "Your reads", "您的评估记录"),
    ("read.residual_tumour", "Residual tumour", "残余肿瘤"),
    ("read.scan_date", "Scan date", "扫描日期"),
    ("read.status", "Status", "状态"),
    ("read.submit", "Save read", "保存评估"),
    ("read.time_point", "Time point", "时间点"),
    ("read.title", "Reader workstation", "阅片工作站"),
    ("review.axial", "Axial", "横断面"),
    ("review.coronal", "Coronal", "冠状面"),
    ("review.dose_axis", "Dose (Gy)", "剂量（Gy）"),
    ("review.dvh", "Dose–volume histograms", "剂量体积直方图"),
    ("review.failed", "The plan's DVH and slices could not be loaded.", "无法加载该计划的剂量体积直方图和断层图像。"),
    (
        "review.file",
        "Review bundle (review.json written by the planner, optional)",
        "审核数据包（计划软件输出的 .json 文件，可选）",
    ),
    ("review.isodoses", "Isodose lines", "等剂量线"),
    ("review.isotherms", "Isotherms", "等温线"),
    ("review.kind.body", "Body", "体表轮廓"),
    ("review.kind.isodose", "Isodose", "等剂量线"),
    ("review.kind.isotherm", "Isotherm", "等温线"),
    ("review.kind.oar", "Organ at risk", "危及器官"),
    ("review.kind.target", "Target", "靶区"),
    ("review.kind.vessel", "Vessel", "血管"),
    ("review.kind.zone", "Zone", "分区"),
    ("review.loading", "Loading the plan's DVH and slices…", "正在加载计划的剂量体积直方图和断层图像…"),
    ("review.no_dose", "No seed dose in this plan.", "该计划无粒子剂量。"),
    ("review.orientation", "Orientation", "方位"),
    ("review.probes", "Cryoprobe (projected)", "冷冻探针（投影）"),
    ("review.rx", "Rx", "处方"),
    ("review.sagittal", "Sagittal", "矢状面"),
    ("review.seeds", "Seeds in this slice", "本层粒子"),
    ("review.slice", "Slice", "层面"),
    ("review.slices", "Slices with structures, isodose lines and isotherms", "断层图像（结构、等剂量线和等温线）"),
    ("review.structures", "Structures", "结构"),
    (
        "review.unavailable",
        "This plan was stored without its review bundle (review.json): no DVH or slices.",
        "该计划保存时未附审核数据包：无剂量体积直方图和断层图像。",
    ),
    ("review.volume_axis", "Volume (%)", "体积（%）"),
    ("role.adjudicator", "Adjudicator", "裁定者"),
    ("role.admin", "Administrator", "管理员"),
    ("role.data_manager", "Data manager", "数据管理员"),
    ("role.investigator", "Site investigator", "研究者"),
    ("role.reader", "Independent imaging reviewer", "独立影像评估者"),
    ("role.statistician", "Trial statistician", "试验统计师"),
    ("rule.all_cryo_criteria_met", "Every cryo criterion holds", "满足所有冷冻消融标准"),
    ("rule.bulky_index_zoned", "Bulky index lesion, experimental arm: zoning", "试验组大体积指示病灶：分区治疗"),
    ("rule.control_arm_modality", "Control arm: the centre's modality", "对照组：中心的单一治疗方式"),
    ("rule.heat_sink", "No large vessel near the lesion (heat sink)", "病灶附近无大血管（热沉效应）"),
    ("rule.investigator_override", "Investigator override", "研究者调整"),
    ("rule.longest_diameter", "Longest diameter within the cryo limit", "最长径在冷冻消融限值内"),
    ("rule.oar_distance", "Distance to critical organs at risk", "与关键危及器官的距离"),
    ("rule.probe_path", "A straight probe path exists", "存在直线探针路径"),
    ("screening.age", "Age (years)", "年龄（岁）"),
    ("screening.checklist", "Eligibility checklist", "入组资格核查表"),
    ("screening.ecog", "ECOG performance status", "ECOG 体能状态"),
    ("screening.exclusions", "Exclusion criteria", "排除标准"),
    (
        "screening.histology",
        "Histologically or cytologically confirmed solid malignancy",
        "经组织学或细胞学确诊的实体恶性肿瘤",
    ),
    ("screening.labs", "Laboratory values", "实验室检查"),
    ("screening.lesion_count", "Number of metastatic lesions", "转移病灶总数"),
    ("screening.lesions", "Declared lesions", "申报病灶"),
    ("screening.metastatic", "Metastatic disease", "转移性疾病"),
    ("screening.not_curable", "Not amenable to curative surgery or radiotherapy", "不适合根治性手术或根治性放疗"),
    ("screening.screened_on", "Screening date", "筛选日期"),
    ("screening.submit", "Record screening", "保存筛选"),
    ("screening.title", "Screening", "筛选"),
    ("serious.congenital_anomaly", "Congenital anomaly", "先天异常"),
    ("serious.death", "Death", "死亡"),
    ("serious.disability", "Disability or incapacity", "残疾或功能丧失"),
    ("serious.hospitalization", "Hospitalization", "住院或延长住院"),
    ("serious.important_medical_event", "Important medical event", "重要医学事件"),
    ("serious.life_threatening", "Life-threatening", "危及生命"),
    ("signature.at", "Signed at", "签名时间"),
    ("signature.by", "Signed by", "签名人"),
    (
        "signature.default_meaning",
        "I confirm that this casebook is complete and accurate",
        "本人确认本病例报告表完整、准确",
    ),
    ("signature.meaning", "Meaning", "签名含义"),
    ("signature.none", "Not signed yet.", "尚未签名。"),
    (
        "signature.note",
        "Signing needs your password again; the signature records who, what and when in the audit trail.",
        "签名前需再次输入密码；签名人、签名内容和时间均记入稽查轨迹。",
    ),
    ("signature.password", "Your password (typed again to sign)", "您的密码（签名前需再次输入）"),
    ("signature.sign", "Sign", "签名"),
    ("signature.title", "Signatures", "电子签名"),
    ("stats.analysed", "Analysed", "分析例数"),
    ("stats.at_risk", "Number at risk", "风险人数"),
    (
        "stats.audited",
        "Results by arm are unblinded data: opening this page is recorded in the audit trail.",
        "按组别的结果属于非盲数据：打开本页面将记入稽查轨迹。",
    ),
    ("stats.ci", "CI", "置信区间"),
    ("stats.controlled", "Controlled", "控制"),
    ("stats.cox_hr", "Hazard ratio, experimental vs control (Cox)", "风险比，试验组对照组（Cox 模型）"),
    ("stats.data_cut", "Data cut", "数据截止日期"),
    ("stats.days_from_randomization", "Days from randomization", "随机分组后天数"),
    ("stats.endpoints", "Endpoints by arm", "按组别的终点"),
    ("stats.enrolment", "Enrolment by site", "各中心入组情况"),
    (
        "stats.enrolment_cells",
        "Each cell: screened / randomized that month (randomized to date).",
        "每格：当月筛选数 / 当月随机数（累计随机数）。",
    ),
    ("stats.enrolment_chart", "Randomized patients by site (cumulative)", "各中心累计随机患者数"),
    ("stats.events", "events", "事件"),
    ("stats.events_heading", "Events", "事件数"),
    ("stats.fisher", "Fisher's exact test", "Fisher 精确检验"),
    (
        "stats.gee_difference",
        "Difference between arms (GEE, lesions clustered in patients)",
        "组间差异（GEE，病灶按患者聚类）",
    ),
    ("stats.km", "Kaplan–Meier curves by arm", "按组别的 Kaplan–Meier 曲线"),
    ("stats.lcr_primary", "Local control at 6 months (evaluable lesions)", "6 个月局部控制率（可评估病灶）"),
    (
        "stats.lcr_sensitivity",
        "Local control at 6 months (not evaluable counted as failure)",
        "6 个月局部控制率（不可评估计为失败）",
    ),
    ("stats.lesions", "Lesions", "病灶数"),
    ("stats.logrank", "Stratified log-rank test", "分层对数秩检验"),
    ("stats.median_days", "Median (days)", "中位数（天）"),
    ("stats.month", "Month", "月份"),
    ("stats.months_survival", "months: survival", "个月生存率"),
    ("stats.newcombe", "Difference between arms (Newcombe)", "组间差异（Newcombe 法）"),
    ("stats.no_data", "No data yet", "暂无数据"),
    ("stats.not_estimable", "not estimable", "无法估计"),
    ("stats.not_reached", "not reached", "未达到"),
    ("stats.orr", "Objective response (CR or PR)", "客观缓解（完全或部分缓解）"),
    ("stats.patients", "Patients", "患者数"),
    ("stats.probability", "Probability", "概率"),
    ("stats.proportion", "Proportion", "比例"),
    (
        "stats.provenance",
        "The numbers of the analysis report, computed from the stored trial",
        "分析报告的数值，基于已存储的试验数据计算",
    ),
    ("stats.randomized_total", "Randomized to date", "累计随机数"),
    ("stats.reintervention", "Re-intervention", "再次干预"),
    ("stats.responders", "With the outcome", "发生例数"),
    ("stats.snapshot", "Data snapshot", "数据快照"),
    ("stats.technical_success", "Technical success (per lesion)", "技术成功（按病灶）"),
    ("stats.title", "Statistician dashboard", "统计分析看板"),
    ("stats.total", "Total (screened / randomized)", "合计（筛选 / 随机）"),
    ("status.eligible", "Eligible", "符合入组条件"),
    ("status.ineligible", "Ineligible", "不符合入组条件"),
    ("status.pending", "Pending", "待定"),
    ("status.randomized", "Randomized", "已随机"),
    ("status.registered", "Registered", "已登记"),
    ("timeline.aes_shown", "Adverse events shown", "显示的不良事件"),
    ("timeline.audit", "Audit trail", "稽查轨迹"),
    ("timeline.date", "Date", "日期"),
    ("timeline.detail", "Details", "详情"),
    ("timeline.event", "Event", "事件"),
    ("timeline.events", "Timeline", "时间线"),
    ("timeline.newest_aes", "Most recent adverse events", "最近的不良事件"),
    ("timeline.older_aes", "Older adverse events", "更早的不良事件"),
    ("timeline.query", "Query", "质疑"),
    ("timeline.record", "Record", "记录"),
    ("timeline.title", "Patient", "患者"),
    ("validation.bool", "must be yes or no", "必须为是或否"),
    ("validation.choice", "is not one of the choices", "不是有效选项"),
    ("validation.date", "must be a date (YYYY-MM-DD)", "必须是日期（YYYY-MM-DD）"),
    ("validation.integer", "must be a whole number", "必须是整数"),
    ("validation.number", "must be a number", "必须是数字"),
    ("validation.range", "is out of range", "超出范围"),
    ("validation.required", "is required", "必填"),
    ("validation.too_long", "is too long", "过长"),
    ("verdict.met", "Met", "满足"),
    ("verdict.not_met", "Not met", "不满足"),
    ("verdict.undecided", "Missing data", "数据缺失"),
];

#[cfg(test)]
mod tests {
    use super::{Locale, MESSAGES, Tr};

    #[test]
    fn catalogue_is_sorted_unique_and_complete() {
        for pair in MESSAGES.windows(2) {
            assert!(pair[0].0 < pair[1].0, "{} must sort before {}", pair[0].0, pair[1].0);
        }
        for (key, en, zh) in MESSAGES {
            assert!(!en.trim().is_empty() && !zh.trim().is_empty(), "{key} has an empty message");
        }
    }

    #[test]
    fn dates_and_numbers_per_locale() {
        let en = Tr::new(Locale::En);
        let zh = Tr::new(Locale::Zh);
        assert_eq!(en.date("2026-01-05"), "5 Jan 2026");
        assert_eq!(zh.date("2026-01-05"), "2026年1月5日");
        assert_eq!(en.date("2026-11-28T08:40:45.000000Z"), "28 Nov 2026");
        assert_eq!(en.date("not a date"), "not a date");
        assert_eq!(en.number(1234.5, 1), "1,234.5");
        assert_eq!(en.number(-1_234_567.0, 0), "-1,234,567");
        assert_eq!(zh.number(999.0, 2), "999.00");
        assert_eq!(en.number(-0.001, 1), "0.0");
        assert_eq!(zh.get("nav.patients"), "患者");
        assert_eq!(en.get("no.such.key"), "no.such.key");
    }
}
