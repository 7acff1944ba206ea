// Japanese labels.
export const ja = {
  title: "パリ協定6条 監査ログ",
};
