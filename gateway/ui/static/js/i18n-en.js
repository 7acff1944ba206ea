// English labels (the reference dictionary: Japanese must have every key).
export const en = {
  title: "Article 6 audit log",
};
